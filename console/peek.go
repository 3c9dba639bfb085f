package console

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/amqpemu/amqpemu/broker"
)

// peekedJSON is a backlog message as GET /api/v1/groups/{id}/messages
// shows it. Payload is the payload as text when it is UTF-8, else null;
// PayloadBase64 always holds its exact bytes. GenerateTime is in epoch
// milliseconds, as the vendor's messages carry it.
type peekedJSON struct {
	MessageID     string  `json:"messageId"`
	Topic         string  `json:"topic"`
	ProductKey    string  `json:"productKey"`
	DeviceName    string  `json:"deviceName"`
	Kind          string  `json:"kind"`
	GenerateTime  int64   `json:"generateTime"`
	Seq           uint64  `json:"seq"`
	Delivered     bool    `json:"delivered"`
	Payload       *string `json:"payload"`
	PayloadBase64 []byte  `json:"payloadBase64"`
}

func toPeekedJSON(p broker.Peeked) peekedJSON {
	out := peekedJSON{
		MessageID: p.MessageID, Topic: p.Topic, ProductKey: p.ProductKey, DeviceName: p.DeviceName,
		Kind: p.Kind, GenerateTime: p.GenerateTime.UnixMilli(), Seq: p.Seq, Delivered: p.Delivered,
		PayloadBase64: p.Payload,
	}
	if out.PayloadBase64 == nil {
		out.PayloadBase64 = []byte{} // "" rather than null
	}
	if utf8.Valid(p.Payload) {
		text := string(p.Payload)
		out.Payload = &text
	}
	return out
}

// peekGroup is GET /api/v1/groups/{id}/messages?count=N: the next N
// (1–100, default 10) messages of the group's backlog, oldest first, read
// without consuming them.
func (s *Server) peekGroup(w http.ResponseWriter, r *http.Request) error {
	n := 0 // the broker's default
	if c := r.URL.Query().Get("count"); c != "" {
		var err error
		if n, err = strconv.Atoi(c); err != nil || n < 1 {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "count is %q; it must be a whole number from 1 to %d", c, broker.MaxPeek)
		}
	}
	g, err := s.b.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ps, err := s.b.Peek(r.Context(), g.ID, n)
	if err != nil {
		return err
	}
	out := make([]peekedJSON, len(ps))
	for i, p := range ps {
		out[i] = toPeekedJSON(p)
	}
	return writeJSON(w, http.StatusOK, struct {
		Group    string       `json:"group"`
		Messages []peekedJSON `json:"messages"`
	}{g.ID, out})
}
