package openapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// DefaultMaxBody bounds a call's body: a form of parameters, the largest
// being Pub's base64 MessageContent of a 256 KiB message.
const DefaultMaxBody = 2 << 20

// Action is one action of a product. It returns a value encoding to a JSON
// object (or nil), whose fields follow RequestId and Success in the answer.
type Action func(ctx context.Context, p *Params) (any, error)

// Product is a service's actions, registered under its API version.
type Product struct {
	Name    string // for the log, e.g. "Iot"
	Actions map[string]Action
	// Errors maps an error an action returned, when it is not an *Error,
	// to the answer: the product's one table of business codes. A nil
	// Errors, or a nil answer, makes the error a server fault (500).
	Errors func(error) *Error
}

// Config sets up a Server.
type Config struct {
	// AccessKeys maps each access key id to its secret.
	AccessKeys map[string]string
	Logger     zerolog.Logger
	// Now is the clock timestamps are checked against; nil is time.Now.
	Now func() time.Time
	// MaxBody bounds a call's body; 0 is DefaultMaxBody.
	MaxBody int64
}

// Server answers RPC calls; it is an http.Handler.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	nonces *nonceCache

	mu       sync.RWMutex
	products map[string]Product // by Version
}

// New makes a Server without products; Register adds them.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	return &Server{
		cfg:      cfg,
		log:      cfg.Logger.With().Str("component", "openapi").Logger(),
		nonces:   newNonceCache(maxNonces),
		products: map[string]Product{},
	}
}

// Register serves product p's actions to calls with Version version.
func (s *Server) Register(version string, p Product) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products[version] = p
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// call is what the log tells of a call.
type call struct {
	requestID, version, action, accessKey, scheme string
}

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := call{requestID: newRequestID()}
	w.Header().Set("x-acs-request-id", c.requestID)
	p, result, e := s.handle(w, r, &c)
	asXML := p != nil && strings.EqualFold(p.Get("Format"), "XML")
	status, body := http.StatusOK, []byte(nil)
	if e == nil {
		var err error
		if body, err = successBody(c.requestID, result); err != nil {
			e = &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, Err: err}
		}
	}
	if e != nil {
		if e.Err != nil {
			s.log.Error().Err(e.Err).Str("request", c.requestID).Str("action", c.action).Str("version", c.version).Msg("call failed")
			if e.Message == "" {
				e.Message = "The request processing has failed due to some unknown error; the server log has the details (request " + c.requestID + ")."
			}
		}
		status, body = e.Status, errorBody(c.requestID, r.Host, e)
	}
	ev := s.log.Debug().Str("request", c.requestID).Str("host", r.Host).Str("version", c.version).Str("action", c.action).
		Str("accessKey", c.accessKey).Str("scheme", c.scheme).Int("status", status)
	if e != nil {
		ev = ev.Str("code", e.Code)
	}
	ev.Msg("rpc call")
	if err := write(w, status, body, asXML); err != nil {
		s.log.Debug().Err(err).Str("request", c.requestID).Msg("answer not delivered")
	}
}

// handle reads, authenticates and runs a call. It returns the parameters
// (nil when they could not be read) and the action's result or refusal.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, c *call) (*Params, any, *Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, nil, Errorf(http.StatusBadRequest, CodeUnsupportedMethod, "The HTTP method %s is not supported; use POST or GET.", quote(r.Method))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, nil, Errorf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "The request body exceeds %d bytes.", tooLarge.Limit)
		}
		return nil, nil, Errorf(http.StatusBadRequest, CodeInvalidParameter, "Reading the request body: %v.", err)
	}
	p, perr := readParams(r, body)
	if perr != nil {
		return nil, nil, perr
	}
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "ACS3-") {
		c.scheme = "ACS3"
		c.version, c.action = r.Header.Get("x-acs-version"), r.Header.Get("x-acs-action")
	} else {
		c.scheme = "v1"
		c.version, c.action = p.Get("Version"), p.Get("Action")
	}
	prod, act, e := s.lookup(c.version, c.action)
	if e != nil {
		return p, nil, e
	}
	var ak string
	if c.scheme == "ACS3" {
		ak, e = s.verifyACS3(r, body)
	} else {
		ak, e = s.verifyV1(r, p)
	}
	c.accessKey = ak
	if e != nil {
		return p, nil, e
	}
	result, err := act(r.Context(), p)
	if err != nil {
		return p, nil, s.errorFor(prod, err)
	}
	return p, result, nil
}

// lookup finds the action of a call.
func (s *Server) lookup(version, action string) (Product, Action, *Error) {
	if version == "" {
		return Product{}, nil, Missing("Version")
	}
	s.mu.RLock()
	prod, ok := s.products[version]
	var known []string
	if !ok {
		for v := range s.products {
			known = append(known, v)
		}
	}
	s.mu.RUnlock()
	if !ok {
		sort.Strings(known)
		return Product{}, nil, Errorf(http.StatusBadRequest, CodeInvalidVersion,
			"Specified parameter Version %s is not valid; this server has %s.", quote(version), strings.Join(known, ", "))
	}
	if action == "" {
		return prod, nil, Missing("Action")
	}
	act, ok := prod.Actions[action]
	if !ok {
		return prod, nil, Errorf(http.StatusNotFound, CodeInvalidAction,
			"Specified api %s is not found in %s (Version %s).", quote(action), prod.Name, version)
	}
	return prod, act, nil
}

// errorFor maps an action's error through its product's table.
func (s *Server) errorFor(prod Product, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if prod.Errors != nil {
		if e := prod.Errors(err); e != nil {
			return e
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, Err: err}
}
