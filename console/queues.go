package console

import (
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
)

// listQueues shows the generic queues (addresses that named no consumer
// group), apart from the groups: a misspelled group name lands here.
func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) error {
	queues, err := s.b.Queues(r.Context())
	if err != nil {
		return err
	}
	if queues == nil {
		queues = []broker.QueueInfo{}
	}
	return writeJSON(w, http.StatusOK, struct {
		Queues []broker.QueueInfo `json:"queues"`
	}{queues})
}
