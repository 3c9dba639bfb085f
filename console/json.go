package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// maxBody bounds the request body of every endpoint but POST /api/v1/messages.
const maxBody = 1 << 20

// readBody reads r's body, refusing more than limit bytes (413 BodyTooLarge
// through errorFor).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "reading the request body: %v", err)
	}
	return data, nil
}

// decode reads r's body (at most maxBody bytes) into v: exactly one JSON
// value, without fields v does not have.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := readBody(w, r, maxBody)
	if err != nil {
		return err
	}
	return decodeBytes(data, v)
}

// decodeOptional is decode for a body that may be left out: an empty body
// leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := readBody(w, r, maxBody)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return err
	}
	return decodeBytes(data, v)
}

func decodeBytes(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the request body is empty; it must be %s", jsonKind(reflect.TypeOf(v)))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: unexpected data after the first value (at byte %d)", dec.InputOffset())
	}
	return nil
}

// jsonError explains a decoding error to the client.
func jsonError(err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON at byte %d: %v", syntax.Offset, strings.TrimPrefix(err.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ) && typ.Field == "":
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "the request body must be %s, not %s", jsonKind(typ.Type), article(typ.Value))
	case errors.As(err, &typ):
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "field %q must be %s, not %s", typ.Field, jsonKind(typ.Type), article(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for DisallowUnknownFields.
		return errorf(http.StatusBadRequest, CodeUnknownField, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return errorf(http.StatusBadRequest, CodeInvalidJSON, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON value a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a JSON value"
}

// article turns encoding/json's description of a value ("object", "number
// 1.5") into prose.
func article(v string) string {
	if v == "" {
		return "that"
	}
	if strings.ContainsAny(v[:1], "aeiou") {
		return "an " + v
	}
	return "a " + v
}

// writeFailed wraps an error writing an answer: the client is gone or the
// answer half sent, so nothing more can be told to the client.
type writeFailed struct{ err error }

func (e writeFailed) Error() string { return fmt.Sprintf("writing the response: %v", e.err) }
func (e writeFailed) Unwrap() error { return e.err }

// writeJSON sends v as the answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if _, err := w.Write(append(data, '\n')); err != nil {
		return writeFailed{err}
	}
	return nil
}
