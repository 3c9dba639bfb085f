package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/amqpemu/amqpemu/logservice"
)

// isLogService reports whether r is a call of the log service's API, which
// Config.LogService answers: its SDK signs every call with an
// Authorization header of its own scheme ("LOG ak:sig", or
// "SLS4-HMAC-SHA256 …" with AuthV4) that no other surface uses, and it
// reaches the emulator through HTTP_PROXY with a Host of
// {project}.{endpoint}, which is not a name of this server, for paths
// under /logstores. Either says "log service"; a browser sends neither.
func isLogService(r *http.Request, extraHosts []string) bool {
	auth := r.Header.Get("Authorization")
	if strings.HasPrefix(auth, "LOG ") || strings.HasPrefix(auth, "SLS4-HMAC-SHA256 ") {
		return true
	}
	path := r.URL.Path
	return (path == "/logstores" || strings.HasPrefix(path, "/logstores/")) && !hostAllowed(r.Host, extraHosts)
}

// Logs is what the REST API and the web console show of the log service:
// its consumer groups and the IoT data forwarding rules into logstores;
// *logservice.Server satisfies it.
type Logs interface {
	Groups(ctx context.Context) ([]logservice.GroupOverview, error)
	Forwards(ctx context.Context) ([]logservice.ForwardRule, error)
	Forward(ctx context.Context, productKey string) (logservice.ForwardRule, error)
	SetForward(ctx context.Context, rule logservice.ForwardRule) (logservice.ForwardRule, error)
	DeleteForward(ctx context.Context, productKey string) error
	CreateProject(ctx context.Context, name, description string) error
	CreateLogstore(ctx context.Context, project string, spec logservice.LogstoreSpec) (logservice.LogstoreSpec, error)
}

// logRoutes registers the log service's status and forwarding routes.
// Without Config.Logs they answer 404 LogServiceDisabled.
func (s *Server) logRoutes() {
	h := s.apiIf(s.cfg.Logs != nil, logsOff)
	s.mux.Handle("GET /api/v1/logservice/consumergroups", h(s.listLogGroups))
	s.mux.Handle("POST /api/v1/logservice/projects", h(s.createLogProject))
	s.mux.Handle("POST /api/v1/logservice/projects/{project}/logstores", h(s.createLogstore))
	s.mux.Handle("GET /api/v1/logforwards", h(s.listLogForwards))
	s.mux.Handle("GET /api/v1/products/{pk}/logforward", h(s.getLogForward))
	s.mux.Handle("PUT /api/v1/products/{pk}/logforward", h(s.putLogForward))
	s.mux.Handle("DELETE /api/v1/products/{pk}/logforward", h(s.deleteLogForward))
}

func logsOff(http.ResponseWriter, *http.Request) error {
	return errorf(http.StatusNotFound, CodeLogServiceDisabled, "the log service is off in this server")
}

// listLogGroups renders logservice.Server.Groups.
func (s *Server) listLogGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := s.cfg.Logs.Groups(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Groups []logservice.GroupOverview `json:"groups"`
	}{groups})
}

func (s *Server) listLogForwards(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.cfg.Logs.Forwards(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Forwards []logservice.ForwardRule `json:"forwards"`
	}{rules})
}

func (s *Server) getLogForward(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.cfg.Logs.Forward(r.Context(), r.PathValue("pk"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}

// logForwardJSON is the body of PUT /api/v1/products/{pk}/logforward.
type logForwardJSON struct {
	Project  string   `json:"project"`
	Logstore string   `json:"logstore"`
	Kinds    []string `json:"kinds"`
}

// putLogForward makes or replaces the product's rule and answers it as
// stored (kinds default to ["data"]).
func (s *Server) putLogForward(w http.ResponseWriter, r *http.Request) error {
	var in logForwardJSON
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rule, err := s.cfg.Logs.SetForward(r.Context(), logservice.ForwardRule{
		ProductKey: r.PathValue("pk"), Project: in.Project, Logstore: in.Logstore, Kinds: in.Kinds})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}

func (s *Server) deleteLogForward(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Logs.DeleteForward(r.Context(), r.PathValue("pk")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createLogProject: POST /api/v1/logservice/projects {"name","description"?}.
func (s *Server) createLogProject(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := s.cfg.Logs.CreateProject(r.Context(), in.Name, in.Description); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, in)
}

// createLogstore: POST /api/v1/logservice/projects/{project}/logstores
// {"name","shardCount"?,"ttl"?}; answers the logstore with its defaults.
func (s *Server) createLogstore(w http.ResponseWriter, r *http.Request) error {
	var in logservice.LogstoreSpec
	if err := decode(w, r, &in); err != nil {
		return err
	}
	made, err := s.cfg.Logs.CreateLogstore(r.Context(), r.PathValue("project"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, made)
}
