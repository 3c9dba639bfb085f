package console

import (
	"net/http"

	"github.com/amqpemu/amqpemu/queueservice"
)

// isQueueService reports whether r is a call of the queue service:
// /v1.0/{project_id}/queues… or /v2/{project_id}/queues….
func isQueueService(r *http.Request) bool { return queueservice.IsQueueService(r.URL.Path) }
