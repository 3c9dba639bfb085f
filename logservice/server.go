package logservice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// Backend is what the log service needs of the broker.
type Backend interface {
	StateBucket(name string) *broker.StateBucket
	CreateLogShard(ctx context.Context, s broker.LogShard, retention time.Duration) error
	DeleteLogShard(ctx context.Context, s broker.LogShard) error
	AppendLog(ctx context.Context, s broker.LogShard, data []byte) (uint64, error)
	ReadLogs(ctx context.Context, s broker.LogShard, from uint64, max, maxBytes int) ([]broker.LogRecord, error)
	LogRange(ctx context.Context, s broker.LogShard) (broker.LogRange, error)
	LogSeqAt(ctx context.Context, s broker.LogShard, t time.Time) (uint64, error)
	MaxLogRecord() int
	StartForward(ctx context.Context, name, productKey string, kinds []string, fn broker.ForwardFunc) (*broker.Forward, error)
	DeleteForward(ctx context.Context, name string) error
	ForwardBacklog(ctx context.Context, name string) (int, error)
}

// Config sets up a Server.
type Config struct {
	Broker          Backend // required
	AccessKeyID     string  // required: requests are signed with this pair
	AccessKeySecret string
	Logger          zerolog.Logger
}

// Server answers the log service's API. Lock order: Server.mu before
// sessions.mu and forwards.mu; no lock is held while the broker is called but Server.mu
// (metadata changes). It is an http.Handler for requests
// already known to be the log service's (console.Config.LogService
// picks them out by their Authorization scheme and Host).
type Server struct {
	cfg  Config
	meta *store
	// mu serialises changes of projects and logstores (check, then make
	// streams, then store metadata), so that two creates of one name
	// cannot both succeed on this node.
	mu       sync.Mutex
	rr       roundRobin
	sessions sessions // consumer groups' live consumers
	fwd      forwards // data forwarding rules' running forwards
}

// New returns a Server over cfg.Broker.
func New(cfg Config) (*Server, error) {
	if cfg.Broker == nil {
		return nil, errors.New("logservice: Config.Broker is required")
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("logservice: an access key id and secret are required")
	}
	return &Server{cfg: cfg, meta: &store{bucket: cfg.Broker.StateBucket(bucketName)}}, nil
}

// request is one call being answered.
type request struct {
	*http.Request
	project string
	body    []byte
}

// ServeHTTP authenticates r, then routes it by method and path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-log-requestid", newRequestID())
	w.Header().Set("Server", "AliyunSLS")
	if err := s.serve(w, r); err != nil {
		e := toError(err)
		if e.Status >= http.StatusInternalServerError {
			s.cfg.Logger.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("log service request failed")
		}
		writeError(w, e)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	if err := s.verify(r, body); err != nil {
		return err
	}
	project, err := projectOf(r.Host)
	if err != nil {
		return err
	}
	return s.route(w, &request{Request: r, project: project, body: body})
}

// maxBody bounds a request body: a compressed LogGroup can be a little
// larger than the record it holds.
func (s *Server) maxBody() int64 {
	max := int64(s.cfg.Broker.MaxLogRecord())
	return max + max/255 + 64<<10
}

func (s *Server) readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.maxBody()))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errorf(errPostBodyTooLarge, "the body is over the %d bytes allowed", tooLarge.Limit)
	}
	if err != nil {
		return nil, errorf(errPostBodyInvalid, "reading the body: %v", err)
	}
	return body, nil
}

// projectOf is the project a Host names: its first label
// ({project}.{endpoint}), the port aside.
func projectOf(host string) (string, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	project, _, found := strings.Cut(host, ".")
	if !found || project == "" || net.ParseIP(strings.Trim(host, "[]")) != nil {
		return "", errorf(errParameterInvalid, "the Host %s names no project: the SDK sends {project}.{endpoint}", quote(host))
	}
	if err := checkProjectName(project); err != nil {
		return "", err
	}
	return project, nil
}

// route picks the handler by path and method.
func (s *Server) route(w http.ResponseWriter, r *request) error {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if parts[0] == "" {
		parts = parts[:0]
	}
	switch {
	case len(parts) == 0:
		return s.routeProject(w, r)
	case parts[0] != "logstores":
	case len(parts) == 1:
		return s.routeLogstores(w, r)
	case len(parts) == 2:
		return s.routeLogstore(w, r, parts[1])
	case parts[2] == "consumergroups":
		return s.routeGroups(w, r, parts[1], parts[3:])
	case parts[2] != "shards":
	case len(parts) == 3 && r.Method == http.MethodGet:
		return s.listShards(w, r, parts[1])
	case len(parts) == 4 && r.Method == http.MethodPost && (parts[3] == "route" || parts[3] == "lb"):
		return s.putLogs(w, r, parts[1], r.URL.Query().Get("key"))
	case len(parts) == 4 && r.Method == http.MethodGet:
		return s.routeShard(w, r, parts[1], parts[3])
	}
	return notSupported(r)
}

func notSupported(r *request) error {
	return errorf(errNotSupported, "%s %s is not emulated", r.Method, r.URL.Path)
}

func (s *Server) routeProject(w http.ResponseWriter, r *request) error {
	switch r.Method {
	case http.MethodPost:
		return s.createProject(w, r)
	case http.MethodGet:
		return s.getProject(w, r)
	case http.MethodDelete:
		return s.deleteProject(w, r)
	}
	return notSupported(r)
}

func (s *Server) routeLogstores(w http.ResponseWriter, r *request) error {
	switch r.Method {
	case http.MethodPost:
		return s.createLogstore(w, r)
	case http.MethodGet:
		return s.listLogstores(w, r)
	}
	return notSupported(r)
}

func (s *Server) routeLogstore(w http.ResponseWriter, r *request, name string) error {
	switch r.Method {
	case http.MethodGet:
		return s.getLogstore(w, r, name)
	case http.MethodDelete:
		return s.deleteLogstore(w, r, name)
	case http.MethodPost:
		return s.putLogs(w, r, name, "")
	}
	return notSupported(r)
}

func (s *Server) routeShard(w http.ResponseWriter, r *request, logstore, shard string) error {
	switch typ := r.URL.Query().Get("type"); typ {
	case "cursor":
		return s.getCursor(w, r, logstore, shard)
	case "logs":
		return s.pullLogs(w, r, logstore, shard)
	case "cursor_time":
		return s.getCursorTime(w, r, logstore, shard)
	default:
		return errorf(errParameterInvalid, "type %s is not one of cursor, logs, cursor_time", quote(typ))
	}
}

// ok answers 200 with no body, as the vendor does for creates and deletes.
func ok(w http.ResponseWriter) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("rendering the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return nil
}

// decodeJSON reads a JSON request body into v; unknown fields are fine
// (the SDK sends many this emulator keeps no use for).
func decodeJSON(r *request, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return errorf(errPostBodyInvalid, "the body is not the JSON expected: %v", err)
	}
	return nil
}

// newRequestID is an x-log-requestid: 24 upper-case hex digits, like the
// vendor's.
func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// routeGroups answers …/consumergroups and …/consumergroups/{cg}.
func (s *Server) routeGroups(w http.ResponseWriter, r *request, logstore string, rest []string) error {
	switch {
	case len(rest) == 0 && r.Method == http.MethodPost:
		return s.createGroup(w, r, logstore)
	case len(rest) == 0 && r.Method == http.MethodGet:
		return s.listGroups(w, r, logstore)
	case len(rest) != 1:
	case r.Method == http.MethodPost:
		return s.routeGroup(w, r, logstore, rest[0])
	case r.Method == http.MethodGet:
		return s.getCheckpoints(w, r, logstore, rest[0])
	case r.Method == http.MethodPut:
		return s.updateGroup(w, r, logstore, rest[0])
	case r.Method == http.MethodDelete:
		return s.deleteGroup(w, r, logstore, rest[0])
	}
	return notSupported(r)
}
