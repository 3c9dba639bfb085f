package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storedMsg is a message read back from the stream.
type storedMsg struct {
	seq     uint64
	subject string
	header  nats.Header
	data    []byte
	time    time.Time
}

// scanBatch is how many messages one direct-get request asks for.
const scanBatch = 256

// scan calls fn with each message of filter (wildcards allowed) from
// sequence from on, in order, until fn returns false or limit messages
// were read; atEnd says whether it ran past the last such message. It asks
// for batches with the stream's direct get ($JS.API.DIRECT.GET, the
// stream has allow_direct), one request per scanBatch messages, falling
// back to one message get per message where direct get does not answer.
// With replicas, a lagging replica may answer a direct get with fewer of
// the newest messages: a read then ends early and the next one sees them
// (offsets only move past records read, so nothing is skipped).
func (b *Broker) scan(ctx context.Context, filter string, from uint64, limit int, fn func(storedMsg) bool) (atEnd bool, err error) {
	n := 0
	for n < limit {
		batch, end, err := b.directBatch(ctx, filter, from, min(scanBatch, limit-n))
		if errors.Is(err, errNoDirect) {
			return b.scanOneByOne(ctx, filter, from, limit-n, fn)
		}
		if err != nil {
			return false, b.unavailable(err)
		}
		for _, m := range batch {
			n++
			from = m.seq + 1
			if !fn(m) {
				return false, nil
			}
		}
		if end || len(batch) == 0 {
			return true, nil
		}
	}
	return false, nil
}

var errNoDirect = errors.New("direct get not answered")

// directBatch asks for up to n messages; end says that none follow them.
func (b *Broker) directBatch(ctx context.Context, filter string, from uint64, n int) ([]storedMsg, bool, error) {
	nc := b.e().nc
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, false, err
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(map[string]any{"seq": max(from, 1), "next_by_subj": filter, "batch": n, "max_bytes": 4 << 20})
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+streamName, inbox, req); err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []storedMsg
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if len(out) == 0 && errors.Is(err, context.DeadlineExceeded) {
				return nil, false, errNoDirect
			}
			return nil, false, err
		}
		if len(m.Data) == 0 && m.Header != nil && m.Header.Get("Status") != "" {
			switch m.Header.Get("Status") {
			case "404": // nothing at or after from
				return out, true, nil
			case "204": // end of the batch
				return out, m.Header.Get("Nats-Num-Pending") == "0", nil
			case "503":
				return nil, false, errNoDirect
			default:
				return nil, false, fmt.Errorf("direct get: status %s %s", m.Header.Get("Status"), m.Header.Get("Description"))
			}
		}
		sm := storedMsg{subject: m.Header.Get(jetstream.SubjectHeader), header: m.Header, data: m.Data}
		if sm.seq, err = strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64); err != nil {
			return nil, false, fmt.Errorf("direct get: sequence %q", m.Header.Get(jetstream.SequenceHeader))
		}
		sm.time, _ = time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
		out = append(out, sm)
	}
}

// scanOneByOne is scan with one message get per message.
func (b *Broker) scanOneByOne(ctx context.Context, filter string, from uint64, limit int, fn func(storedMsg) bool) (bool, error) {
	stream := b.e().stream
	for n := 0; n < limit; n++ {
		m, err := stream.GetMsg(ctx, max(from, 1), jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return true, nil
		}
		if err != nil {
			return false, b.unavailable(err)
		}
		from = m.Sequence + 1
		if !fn(storedMsg{seq: m.Sequence, subject: m.Subject, header: m.Header, data: m.Data, time: m.Time}) {
			return false, nil
		}
	}
	return false, nil
}
