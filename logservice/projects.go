package logservice

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CreateProject: POST / with {"projectName","description"}; the project
// is also named by the Host, and the two must agree.
func (s *Server) createProject(w http.ResponseWriter, r *request) error {
	var body struct {
		Name        string `json:"projectName"`
		Description string `json:"description"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Name != "" && body.Name != r.project {
		return errorf(errParameterInvalid, "projectName %s differs from the project %s the Host names", quote(body.Name), r.project)
	}
	if err := s.CreateProject(r.Context(), r.project, body.Description); err != nil {
		return err
	}
	return ok(w)
}

// CreateProject makes a project (the REST API's door; the SDK's is
// CreateProject above). An existing one is ErrProjectExists.
func (s *Server) CreateProject(ctx context.Context, name, description string) error {
	if err := checkProjectName(name); err != nil {
		return err
	}
	const maxDescription = 512
	if len(description) > maxDescription {
		return errorf(errParameterInvalid, "the description is over %d bytes", maxDescription)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.meta.project(ctx, name); err == nil {
		return errorf(errProjectAlreadyExist, "Project %s already exist", name)
	} else if toError(err).Code != errProjectNotExist.code {
		return err
	}
	p := projectMeta{Name: name, Description: description, CreateTime: time.Now().Unix()}
	return s.meta.put(ctx, projectKey(name), p)
}

// GetProject: GET /. The SDK reads the times as strings.
func (s *Server) getProject(w http.ResponseWriter, r *request) error {
	p, err := s.meta.project(r.Context(), r.project)
	if err != nil {
		return err
	}
	created := strconv.FormatInt(p.CreateTime, 10)
	return writeJSON(w, map[string]string{
		"projectName":    p.Name,
		"description":    p.Description,
		"status":         "Normal",
		"owner":          "",
		"region":         regionOf(r.Host),
		"createTime":     created,
		"lastModifyTime": created,
	})
}

// regionOf guesses the region from a vendor endpoint's Host
// ({project}.{region}.log.aliyuncs.com); empty for any other.
func regionOf(host string) string {
	labels := strings.Split(host, ".")
	if len(labels) >= 3 && labels[2] == "log" {
		return labels[1]
	}
	return ""
}

// DeleteProject: DELETE / removes the project with its logstores.
func (s *Server) deleteProject(w http.ResponseWriter, r *request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	names, err := s.meta.logstores(ctx, r.project)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := s.removeLogstore(ctx, r.project, name); err != nil {
			return err
		}
	}
	if err := s.meta.bucket.Delete(ctx, projectKey(r.project)); err != nil {
		return err
	}
	return ok(w)
}
