package openapi

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Params are a call's parameters: those of the query and of a form body,
// one value each. Common parameters (Action, Signature, …) are among them.
// Empty values count as absent: the SDKs never send a parameter they were
// not given.
type Params struct {
	v map[string]string
}

// NewParams makes Params from a map (tests and tools).
func NewParams(v map[string]string) *Params {
	p := &Params{v: make(map[string]string, len(v))}
	for k, s := range v {
		p.v[k] = s
	}
	return p
}

// readParams merges the query and a form body, refusing a parameter given
// twice: a signature over one of two values would be ambiguous.
func readParams(r *http.Request, body []byte) (*Params, *Error) {
	p := &Params{v: map[string]string{}}
	if err := p.add("query", r.URL.RawQuery); err != nil {
		return nil, err
	}
	if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
		if err := p.add("form body", string(body)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

func (p *Params) add(where, raw string) *Error {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return Errorf(http.StatusBadRequest, CodeInvalidParameter, "The %s is malformed: %v.", where, err)
	}
	for k, vs := range vals {
		if _, dup := p.v[k]; dup || len(vs) > 1 {
			return Errorf(http.StatusBadRequest, CodeInvalidParameter, "The parameter %s is given more than once.", quote(k))
		}
		p.v[k] = vs[0]
	}
	return nil
}

// Get is parameter name's value, "" when absent.
func (p *Params) Get(name string) string { return p.v[name] }

// Has reports whether parameter name has a non-empty value.
func (p *Params) Has(name string) bool { return p.v[name] != "" }

// Required is parameter name's value, refusing a call without it
// (400 MissingName).
func (p *Params) Required(name string) (string, error) {
	if s := p.v[name]; s != "" {
		return s, nil
	}
	return "", Missing(name)
}

// Int is an integer parameter; ok is false when it is absent.
func (p *Params) Int(name string) (n int, ok bool, err error) {
	s := p.v[name]
	if s == "" {
		return 0, false, nil
	}
	n, perr := strconv.Atoi(s)
	if perr != nil {
		return 0, false, Invalid(name, s, "it must be an integer")
	}
	return n, true, nil
}

// Bool is a boolean parameter (true or false, any case); absent is false.
func (p *Params) Bool(name string) (bool, error) {
	switch s := p.v[name]; strings.ToLower(s) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, Invalid(name, s, "it must be true or false")
	}
}

// List is a repeated parameter: name.1, name.2, … in index order, as the
// SDKs send a list. A JSON array in name itself is taken too.
func (p *Params) List(name string) ([]string, error) {
	type item struct {
		i int
		v string
	}
	var items []item
	prefix := name + "."
	for k, v := range p.v {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 1 || strconv.Itoa(i) != rest {
			return nil, Invalid(k, v, fmt.Sprintf("a list is sent as %s.1, %s.2, …", name, name))
		}
		if v != "" {
			items = append(items, item{i, v})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.i - b.i })
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.v)
	}
	if s := p.v[name]; s != "" {
		var arr []string
		if err := json.Unmarshal([]byte(s), &arr); err != nil {
			return nil, Invalid(name, s, fmt.Sprintf("a list is sent as %s.1, %s.2, … or as a JSON array of strings", name, name))
		}
		for _, v := range arr {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out, nil
}
