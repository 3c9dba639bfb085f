package openapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// newRequestID is a fresh id shaped like the platform's:
// 8-4-4-4-12 upper-case hexadecimal digits.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// envelope is what every answer starts with.
type envelope struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId,omitempty"`
	Success   bool   `json:"Success"`
	Code      string `json:"Code,omitempty"`
	Message   string `json:"Message,omitempty"`
	ErrorMsg  string `json:"ErrorMessage,omitempty"`
}

// successBody is the envelope followed by the fields of result, which must
// encode to a JSON object (or be nil).
func successBody(requestID string, result any) ([]byte, error) {
	head, _ := json.Marshal(envelope{RequestID: requestID, Success: true})
	if result == nil {
		return head, nil
	}
	data, err := json.Marshal(result)
	if err != nil {
		return nil, fmt.Errorf("encoding the answer: %w", err)
	}
	data = bytes.TrimSpace(data)
	if len(data) < 2 || data[0] != '{' {
		return nil, fmt.Errorf("an action answered %T, not an object", result)
	}
	if rest := bytes.TrimSpace(data[1 : len(data)-1]); len(rest) > 0 {
		head = append(head[:len(head)-1], ',')
		head = append(head, rest...)
		head = append(head, '}')
	}
	return head, nil
}

func errorBody(requestID, host string, e *Error) []byte {
	data, _ := json.Marshal(envelope{RequestID: requestID, HostID: host, Code: e.Code, Message: e.Message, ErrorMsg: e.Message})
	return data
}

// write sends a JSON answer, or its XML form when asXML.
func write(w http.ResponseWriter, status int, body []byte, asXML bool) error {
	w.Header().Set("Cache-Control", "no-store")
	if asXML {
		root := "ActionResponse"
		if status >= 400 {
			root = "Error"
		}
		x, err := jsonToXML(root, body)
		if err != nil {
			return err
		}
		body = x
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// jsonToXML renders a JSON object as the platform's XML: an element per
// field, an array as its field's element repeated.
func jsonToXML(root string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	enc := xml.NewEncoder(&buf)
	if err := xmlValue(enc, dec, root); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func xmlValue(enc *xml.Encoder, dec *json.Decoder, name string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	start := xml.StartElement{Name: xml.Name{Local: name}}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			for dec.More() {
				if err := xmlValue(enc, dec, name); err != nil {
					return err
				}
			}
		case '{':
			if err := enc.EncodeToken(start); err != nil {
				return err
			}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := key.(string)
				if err := xmlValue(enc, dec, k); err != nil {
					return err
				}
			}
			if err := enc.EncodeToken(start.End()); err != nil {
				return err
			}
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case nil:
		return enc.EncodeElement("", start)
	default:
		return enc.EncodeElement(fmt.Sprint(t), start)
	}
}
