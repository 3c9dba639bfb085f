package queueservice

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a request body: SendMessages' 512 KB of messages with
// room for their JSON.
const maxBody = 2 << 20

// IsQueueService reports whether path is one of this service's:
// /v1.0/{project_id}/queues… or /v2/{project_id}/queues….
func IsQueueService(path string) bool {
	rest, ok := strings.CutPrefix(path, "/v1.0/")
	if !ok {
		if rest, ok = strings.CutPrefix(path, "/v2/"); !ok {
			return false
		}
	}
	_, tail, ok := strings.Cut(rest, "/")
	return ok && (tail == "queues" || strings.HasPrefix(tail, "queues/"))
}

// ServeHTTP authenticates r, then routes it by method and path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newRequestID())
	if err := s.serve(w, r); err != nil {
		e := toError(err)
		if e.Status >= http.StatusInternalServerError {
			s.cfg.Logger.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("queue service request failed")
		}
		writeError(w, e)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return errorf(errInvalidBody, "reading the body: %v", err)
	}
	if len(body) > maxBody {
		return errorf(errTooLarge, "the body is over %d bytes", maxBody)
	}
	if err := verify(r, body, s.cfg.AccessKeyID, s.cfg.AccessKeySecret, s.cfg.Now()); err != nil {
		return errorf(errUnauthorized, "Incorrect IAM authentication information: %v", err)
	}
	rt, err := route(r)
	if err != nil {
		return err
	}
	return rt.handle(s, w, &request{Request: r, body: body, project: rt.project, queue: rt.queue, group: rt.group})
}

// request is one call being answered, its path parts checked for form.
type request struct {
	*http.Request
	body                  []byte
	project, queue, group string
}

// routed is the call a path and method name.
type routed struct {
	handle                func(*Server, http.ResponseWriter, *request) error
	project, queue, group string
}

// route reads /{v1.0|v2}/{project_id}/queues[/{queue_id}[/groups[/{group_id}[/messages|/ack]]|/messages]].
func route(r *http.Request) (routed, error) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 3 || (parts[0] != "v1.0" && parts[0] != "v2") || parts[2] != "queues" {
		return routed{}, errorf(errNoRoute, "no API at %s", r.URL.Path)
	}
	rt := routed{project: parts[1]}
	if err := checkProject(rt.project); err != nil {
		return routed{}, err
	}
	parts = parts[3:]
	if len(parts) > 0 {
		rt.queue = parts[0]
		if err := checkQueueID(rt.queue); err != nil {
			return routed{}, err
		}
	}
	if len(parts) > 2 && parts[1] == "groups" {
		rt.group = parts[2]
		if err := checkGroupID(rt.group); err != nil {
			return routed{}, err
		}
	}
	shape := make([]string, len(parts))
	for i, p := range parts {
		shape[i] = p
		if i == 0 || (i == 2 && parts[1] == "groups") {
			shape[i] = "*"
		}
	}
	key := r.Method + " " + strings.Join(shape, "/")
	h, ok := routes[key]
	if !ok {
		for k := range routes {
			if strings.HasSuffix(k, " "+strings.Join(shape, "/")) {
				return routed{}, errorf(errMethod, "%s is not allowed on %s", r.Method, r.URL.Path)
			}
		}
		return routed{}, errorf(errNoRoute, "no API at %s %s", r.Method, r.URL.Path)
	}
	rt.handle = h
	return rt, nil
}

// routes: method and the path after /queues, ids as "*".
var routes = map[string]func(*Server, http.ResponseWriter, *request) error{
	"POST ":                   (*Server).createQueue,
	"GET ":                    (*Server).listQueues,
	"GET *":                   (*Server).showQueue,
	"DELETE *":                (*Server).deleteQueue,
	"POST */groups":           (*Server).createGroups,
	"GET */groups":            (*Server).listGroups,
	"DELETE */groups/*":       (*Server).deleteGroup,
	"POST */messages":         (*Server).sendMessages,
	"GET */groups/*/messages": (*Server).consumeMessages,
	"POST */groups/*/ack":     (*Server).ackMessages,
}

func decode(r *request, v any) error {
	if len(r.body) == 0 {
		return errorf(errInvalidBody, "the request has no body")
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return errorf(errInvalidBody, "the body is not the JSON expected: %v", err)
	}
	return nil
}

func (s *Server) createQueue(w http.ResponseWriter, r *request) error {
	var spec QueueSpec
	if err := decode(r, &spec); err != nil {
		return err
	}
	q, err := s.CreateQueue(r.Context(), r.project, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}{q.ID, q.Name})
	return nil
}

func (s *Server) listQueues(w http.ResponseWriter, r *request) error {
	qs, err := s.Queues(r.Context(), r.project)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Queues []Queue `json:"queues"`
		Total  int     `json:"total"`
	}{qs, len(qs)})
	return nil
}

func (s *Server) showQueue(w http.ResponseWriter, r *request) error {
	q, err := s.Queue(r.Context(), r.project, r.queue)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *request) error {
	if err := s.DeleteQueue(r.Context(), r.project, r.queue); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createGroups(w http.ResponseWriter, r *request) error {
	var in struct {
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	names := make([]string, len(in.Groups))
	for i, g := range in.Groups {
		names[i] = g.Name
	}
	made, err := s.CreateGroups(r.Context(), r.project, r.queue, names)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Groups []CreatedGroup `json:"groups"`
	}{made})
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	for _, name := range []string{"include_deadletter", "include_messages_num"} {
		if v := q.Get(name); v != "" && v != "true" && v != "false" {
			return errorf(errInvalidParam, "%s %s is not true or false", name, quote(v))
		}
	}
	for _, name := range []string{"page_size", "current_page"} {
		if v := q.Get(name); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				return errorf(errInvalidParam, "%s %s is not a positive number", name, quote(v))
			}
		}
	}
	list, err := s.Groups(r.Context(), r.project, r.queue)
	if err != nil {
		return err
	}
	list.Groups = page(list.Groups, q.Get("page_size"), q.Get("current_page"))
	writeJSON(w, http.StatusOK, list)
	return nil
}

// page is the current_page'th page_size groups (both checked, 1-based);
// without page_size, all of them.
func page(gs []Group, size, current string) []Group {
	n, err := strconv.Atoi(size)
	if err != nil {
		return gs
	}
	c, err := strconv.Atoi(current)
	if err != nil {
		c = 1
	}
	if c-1 >= (len(gs)+n-1)/n { // past the last page (and no product to overflow)
		return gs[:0]
	}
	from := (c - 1) * n
	return gs[from:min(from+min(n, len(gs)), len(gs))]
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *request) error {
	if err := s.DeleteGroup(r.Context(), r.project, r.queue, r.group); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) sendMessages(w http.ResponseWriter, r *request) error {
	var in struct {
		Messages []Message `json:"messages"`
		ReturnID *bool     `json:"return_id"`
		ReturnId *bool     `json:"returnId"` // the older API pages' spelling
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := s.Send(r.Context(), r.project, r.queue, in.Messages)
	if err != nil {
		return err
	}
	if !(in.ReturnID != nil && *in.ReturnID || in.ReturnId != nil && *in.ReturnId) {
		for i := range res {
			res[i].ID = ""
		}
	}
	writeJSON(w, http.StatusCreated, struct {
		Messages []SendResult `json:"messages"`
	}{res})
	return nil
}

// intParam reads a query parameter in lo..hi, def when absent.
func intParam(r *request, name string, lo, hi, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(errInvalidParam, "%s %s is not a number in %d..%d", name, quote(v), lo, hi)
	}
	return n, nil
}

func (s *Server) consumeMessages(w http.ResponseWriter, r *request) error {
	maxMsgs, err := intParam(r, "max_msgs", 1, maxConsumeMessages, defaultConsume)
	if err != nil {
		return err
	}
	wait, err := intParam(r, "time_wait", 1, maxTimeWait, defaultTimeWait)
	if err != nil {
		return err
	}
	ackWait, err := intParam(r, "ack_wait", 15, 300, 0)
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("tag_type"); v != "" && v != "and" && v != "or" {
		return errorf(errInvalidParam, "tag_type %s is not and or or", quote(v))
	}
	got, err := s.Consume(r.Context(), r.project, r.queue, r.group, ConsumeOptions{MaxMsgs: maxMsgs,
		TimeWait: time.Duration(wait) * time.Second, AckWait: time.Duration(ackWait) * time.Second})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, got)
	return nil
}

func (s *Server) ackMessages(w http.ResponseWriter, r *request) error {
	var in struct {
		Message []Ack `json:"message"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := s.Acknowledge(r.Context(), r.project, r.queue, r.group, in.Message)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	return hex.EncodeToString(b[:])
}
