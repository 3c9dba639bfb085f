package console

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Config sets up a Server.
type Config struct {
	Broker Backend // required
	// Stats reports group status; nil means Broker.
	Stats  StatsSource
	Logger zerolog.Logger

	Version   string
	Listeners func() map[string]string // name → bound host:port, for GET /api/v1/info; may be nil
	Ready     func() bool              // GET /healthz answers 200 once it is true; nil means always ready
	// Nodes names the amqpemu nodes sharing the engine, this one first
	// (broker.Broker.Nodes), for GET /api/v1/info; may be nil.
	Nodes func() []string

	// Alerts serves /api/v1/alerts; nil turns those routes to 404 AlertsDisabled.
	Alerts Alerts

	// Registry is served at GET /metrics; nil leaves /metrics out.
	Registry *prometheus.Registry
	// MaxMessageSize is the broker's message size limit
	// (broker.Broker.MaxMessageSize); POST /api/v1/messages takes bodies that
	// hold a message that large in any encoding. 0 means the broker's
	// default.
	MaxMessageSize int

	// With RequireAuth, every /api/ request, the web console and /metrics need HTTP Basic
	// authentication with AccessKeyID as the user and AccessKeySecret as the
	// password; an empty AccessKeyID then lets nobody in. /healthz stays
	// open, and /metrics too with MetricsPublic (for a Prometheus that
	// cannot authenticate).
	AccessKeyID     string
	AccessKeySecret string
	RequireAuth     bool
	MetricsPublic   bool
	// ShowAccessKeySecret puts the secret in GET /api/v1/info, for the
	// console to offer it; the start-up log prints it just as freely
	// when it is the public development secret.
	ShowAccessKeySecret bool

	// HostCheck (for loopback mode) answers only requests whose Host is
	// localhost, a *.localhost name, a loopback address or one of
	// ExtraHosts: the guard against DNS rebinding (see guard.go).
	HostCheck  bool
	ExtraHosts []string

	// RPC answers the vendor's RPC OpenAPI calls at "/" (see isRPC); they
	// are signed, so neither RequireAuth nor HostCheck applies. Nil leaves
	// them to the routes.
	RPC http.Handler
	// LogService answers the log service's API (see isLogService); its
	// calls are signed, so neither RequireAuth nor HostCheck applies. Nil
	// leaves them to the routes.
	LogService http.Handler
	// QueueService answers the queue service's API (see
	// isQueueService); its calls are signed, so RequireAuth does not
	// apply. Nil leaves them to the routes.
	QueueService http.Handler
	// Downlink answers GET /api/v1/products/{pk}/devices/{dn}/downlink;
	// nil answers an empty list.
	Downlink DownlinkSource
	// Sender carries POST /api/v1/products/{pk}/devices/{dn}/downlink to
	// the device; nil answers 404.
	Sender Sender
	// Devices serves the device registry under /api/v1/products; nil
	// turns those routes to 404 DevicesDisabled.
	Devices Devices
	// History serves GET /api/v1/groups/{id}/history; nil answers 404
	// HistoryDisabled.
	History History
	// Logs serves GET /api/v1/logservice/consumergroups and the IoT data
	// forwarding rules (/api/v1/logforwards,
	// /api/v1/products/{pk}/logforward); nil answers 404
	// LogServiceDisabled.
	Logs Logs
}

// Server is the HTTP side of amqpemu.
type Server struct {
	cfg   Config
	log   zerolog.Logger
	b     Backend
	stats StatsSource
	mux   *http.ServeMux

	devices lastSeen // previous status change per device
}

// New makes a Server; serve its Handler with an http.Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger.With().Str("component", "http").Logger(), b: cfg.Broker, mux: http.NewServeMux()}
	s.stats = cfg.Stats
	if s.stats == nil {
		s.stats = cfg.Broker
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /api/v1/info", s.api(s.info))

	s.mux.Handle("GET /api/v1/groups", s.api(s.listGroups))
	s.mux.Handle("POST /api/v1/groups", s.api(s.createGroup))
	s.mux.Handle("GET /api/v1/groups/{id}", s.api(s.getGroup))
	s.mux.Handle("PATCH /api/v1/groups/{id}", s.api(s.renameGroup))
	s.mux.Handle("DELETE /api/v1/groups/{id}", s.api(s.deleteGroup))
	s.mux.Handle("GET /api/v1/groups/{id}/status", s.api(s.groupStatus))
	s.mux.Handle("POST /api/v1/groups/{id}/clear", s.api(s.clearGroup))
	s.mux.Handle("POST /api/v1/groups/{id}/reset", s.api(s.resetGroup))
	s.mux.Handle("GET /api/v1/groups/{id}/messages", s.api(s.peekGroup))
	s.mux.Handle("GET /api/v1/groups/{id}/history", s.api(s.groupHistory))
	s.mux.Handle("GET /api/v1/groups/{id}/partitions", s.api(s.groupPartitions))

	s.mux.Handle("GET /api/v1/queues", s.api(s.listQueues))

	s.mux.Handle("GET /api/v1/subscriptions", s.api(s.listSubscriptions))
	s.mux.Handle("GET /api/v1/products/{pk}/subscription", s.api(s.getSubscription))
	s.mux.Handle("PUT /api/v1/products/{pk}/subscription", s.api(s.putSubscription))
	s.mux.Handle("DELETE /api/v1/products/{pk}/subscription", s.api(s.deleteSubscription))

	s.mux.Handle("POST /api/v1/messages", s.api(s.postMessages))
	s.mux.Handle("POST /api/v1/devices/{pk}/{dn}/status", s.api(s.postDeviceStatus))
	s.alertRoutes()
	s.logRoutes()
	s.registryRoutes()
	s.uiRoutes()
	s.mux.Handle("GET /api/v1/products/{pk}/devices/{dn}/downlink", s.api(s.getDownlink))
	s.mux.Handle("POST /api/v1/products/{pk}/devices/{dn}/downlink", s.api(s.postDownlink))

	if s.cfg.Registry != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
			ErrorLog:      promLogger{s.log},
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
}

// Handler is the server's HTTP handler: authentication, the access log and
// JSON answers for unknown paths and methods around the routes.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p) // the handler meant to abort the answer
			}
			s.log.Error().Str("method", r.Method).Str("path", r.URL.Path).Interface("panic", p).Bytes("stack", debug.Stack()).Msg("handler panicked")
			if !sw.wrote {
				e, _ := errorFor(errors.New("handler panicked"))
				if err := writeJSON(sw, e.Status, e); err != nil {
					s.log.Debug().Err(err).Msg("error answer not delivered")
				}
			}
		}
		status := sw.status
		if !sw.wrote {
			status = http.StatusOK // what net/http sends for a handler that wrote nothing
		}
		s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).
			Dur("duration", time.Since(start)).Str("remote", r.RemoteAddr).Msg("http request")
	}()
	s.route(sw, r)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if !s.guard(w, r) {
		return
	}
	if s.cfg.LogService != nil && isLogService(r, s.cfg.ExtraHosts) {
		s.cfg.LogService.ServeHTTP(w, r)
		return
	}
	if s.cfg.QueueService != nil && isQueueService(r) {
		s.cfg.QueueService.ServeHTTP(w, r)
		return
	}
	if s.cfg.RPC != nil && isRPC(r) {
		s.cfg.RPC.ServeHTTP(w, r)
		return
	}
	if s.cfg.RequireAuth && s.needsAuth(r.URL.Path) && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="amqpemu", charset="UTF-8"`)
		s.fail(w, r, errorf(http.StatusUnauthorized, CodeUnauthorized, "%s needs HTTP Basic authentication with the access key id and secret", s.surface(r.URL.Path)))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(w, r)
		return
	}
	if !s.requireJSON(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// needsAuth reports whether path is behind the access key under
// RequireAuth: the REST API, and /metrics unless MetricsPublic.
func (s *Server) needsAuth(path string) bool {
	if path == "/metrics" {
		return !s.cfg.MetricsPublic
	}
	return strings.HasPrefix(path, "/api/") || isUI(path)
}

func (s *Server) surface(path string) string {
	if path == "/metrics" {
		return "/metrics (open it with --metrics-public)"
	}
	if isUI(path) {
		return "the web console"
	}
	return "the REST API"
}

// authorized checks HTTP Basic credentials in constant time.
func (s *Server) authorized(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok || s.cfg.AccessKeyID == "" {
		return false
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.AccessKeyID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.AccessKeySecret))
	return idOK&secretOK == 1
}

// unmatched answers a request no route takes: the mux's own 404 and 405
// become JSON errors; anything else it does (a redirect to a cleaned path)
// is passed on.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		s.fail(w, r, errorf(http.StatusNotFound, CodeNotFound, "no endpoint at %s", r.URL.Path))
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		if _, err := w.Write(rec.body.Bytes()); err != nil {
			s.log.Debug().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("answer not delivered")
		}
	}
}

// api adapts a handler that returns its error to http.Handler.
// apiIf makes handlers of an optional service: f's with the service on,
// off's (its clear "this is off" answer) without it.
func (s *Server) apiIf(on bool, off func(http.ResponseWriter, *http.Request) error) func(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return func(f func(http.ResponseWriter, *http.Request) error) http.Handler {
		if !on {
			return s.api(off)
		}
		return s.api(f)
	}
}

func (s *Server) api(f func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail answers with err mapped by errorFor, logging server faults.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var wf writeFailed
	if errors.As(err, &wf) {
		s.log.Debug().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("answer not delivered")
		return
	}
	e, internal := errorFor(err)
	if internal {
		s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
	}
	if err := writeJSON(w, e.Status, e); err != nil {
		s.log.Debug().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("error answer not delivered")
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	status, body := http.StatusOK, "ok"
	if s.cfg.Ready != nil && !s.cfg.Ready() {
		status, body = http.StatusServiceUnavailable, "unavailable"
	}
	if err := writeJSON(w, status, map[string]string{"status": body}); err != nil {
		s.fail(w, r, err)
	}
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	listeners := map[string]string{}
	if s.cfg.Listeners != nil {
		for k, v := range s.cfg.Listeners() {
			listeners[k] = v
		}
	}
	out := infoJSON{Version: s.cfg.Version, Listeners: listeners, AccessKeyID: s.cfg.AccessKeyID}
	if s.cfg.ShowAccessKeySecret {
		out.AccessKeySecret = s.cfg.AccessKeySecret
	}
	in := s.b.IngestStats()
	out.Ingested, out.IngestRate = in.Total, in.Rate
	if s.cfg.Nodes != nil {
		out.Nodes = s.cfg.Nodes()
		out.Node = out.Nodes[0]
	}
	return writeJSON(w, http.StatusOK, out)
}

// infoJSON is GET /api/v1/info: what the start-up log tells, and the
// device messages stored since start (ingestRate: in the last minute).
type infoJSON struct {
	Version         string            `json:"version"`
	Listeners       map[string]string `json:"listeners"`
	AccessKeyID     string            `json:"accessKeyId,omitempty"`
	AccessKeySecret string            `json:"accessKeySecret,omitempty"`
	Ingested        int64             `json:"ingested"`
	IngestRate      int               `json:"ingestRate"`
	Node            string            `json:"node,omitempty"`  // the node answering
	Nodes           []string          `json:"nodes,omitempty"` // every live node, this one first
}

// statusWriter records the status for the access log and whether the
// answer has started.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recorder captures what the mux's fallback handlers answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// promLogger sends promhttp's errors to the log.
type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) { l.log.Error().Msg("metrics: " + fmt.Sprint(v...)) }
