package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// `amqpemu bench` drives any AMQP 1.0 broker: senders publish messages that
// carry their send time, receivers accept them and record the end-to-end
// latency; it prints progress every second and a summary at the end.

// benchConfig is what one bench run was asked to do.
type benchConfig struct {
	url            string
	address        string
	receiveAddress string
	senders        int
	rate           float64 // messages per second across all senders; 0 = flat out
	inflight       int     // unsettled sends per sender
	receivers      int
	credit         int
	size           int
	count          int64         // messages to send (receive-only: to receive); 0 = no limit
	duration       time.Duration // how long to send (receive-only: to receive); 0 = no limit
	timeout        time.Duration // hard bound on the whole run
	idle           time.Duration // stop receiving after this long without a message once sending is over
	progress       time.Duration // progress line interval; 0 = none
	json           bool
}

const (
	benchDialTimeout = 10 * time.Second
	pacerMaxLag      = 100 * time.Millisecond
)

func parseBenchFlags(args []string, stdout, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: amqpemu bench [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.url, "url", "amqp://127.0.0.1:5672", "broker URL; amqp://user:pass@host:port signs in with SASL PLAIN, else ANONYMOUS")
	fs.StringVar(&c.address, "address", "bench", "address the senders publish to")
	fs.StringVar(&c.receiveAddress, "receive-address", "", "address the receivers consume from (default --address)")
	fs.IntVar(&c.senders, "senders", 1, "sender connections; 0 = receive only (drain a backlog)")
	fs.Float64Var(&c.rate, "rate", 0, "messages per second across all senders; 0 = flat out")
	fs.IntVar(&c.inflight, "inflight", 64, "unsettled sends per sender")
	fs.IntVar(&c.receivers, "receivers", 1, "receiver connections; 0 = send only (pre-load a backlog)")
	fs.IntVar(&c.credit, "credit", 200, "link credit per receiver")
	fs.IntVar(&c.size, "size", 256, "payload bytes per message")
	fs.Int64Var(&c.count, "count", 100000, "messages to send (receive only: to receive); 0 = no limit;\nunless given, no limit with --duration or --senders 0")
	fs.DurationVar(&c.duration, "duration", 0, "how long to send (receive only: to receive); with --count, whichever ends first")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "hard bound on the whole run")
	fs.DurationVar(&c.idle, "idle", 5*time.Second, "stop receiving after this long without a message once sending is over; 0 = wait for --timeout")
	fs.DurationVar(&c.progress, "progress", time.Second, "interval of the progress line on stderr; 0 = none")
	fs.BoolVar(&c.json, "json", false, "print the result as one JSON object")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	countSet := false
	fs.Visit(func(f *flag.Flag) { countSet = countSet || f.Name == "count" })
	if !countSet && (c.duration > 0 || c.senders == 0) {
		c.count = 0
	}
	if c.receiveAddress == "" {
		c.receiveAddress = c.address
	}
	if err := c.validate(); err != nil {
		return c, fmt.Errorf("bench: %w", err)
	}
	return c, nil
}

func (c *benchConfig) validate() error {
	switch {
	case c.senders < 0 || c.receivers < 0:
		return errors.New("--senders and --receivers must not be negative")
	case c.senders == 0 && c.receivers == 0:
		return errors.New("--senders 0 and --receivers 0 leave nothing to do")
	case c.inflight < 1:
		return errors.New("--inflight must be at least 1")
	case c.credit < 1 || c.credit > math.MaxInt32:
		return errors.New("--credit must be between 1 and 2^31-1")
	case c.size < 0 || c.rate < 0 || c.count < 0 || c.duration < 0 || c.idle < 0 || c.progress < 0:
		return errors.New("--size, --rate, --count, --duration, --idle and --progress must not be negative")
	case c.rate > 1e9:
		return errors.New("--rate must be at most 1e9")
	case c.timeout <= 0:
		return errors.New("--timeout must be positive")
	case c.address == "":
		return errors.New("--address must not be empty")
	}
	u, err := url.Parse(c.url)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	if (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		return fmt.Errorf("--url %q: want amqp://host:port or amqps://host:port", u.Redacted())
	}
	return nil
}

// redactedURL is the broker URL with any password masked, for messages.
func (c *benchConfig) redactedURL() string {
	u, err := url.Parse(c.url)
	if err != nil {
		return "(bad URL)"
	}
	return u.Redacted()
}

// connOptions signs in anonymously unless the URL carries user information,
// in which case go-amqp uses SASL PLAIN with it.
func (c *benchConfig) connOptions() *goamqp.ConnOptions {
	if u, err := url.Parse(c.url); err == nil && u.User != nil {
		return nil
	}
	return &goamqp.ConnOptions{SASLType: goamqp.SASLTypeAnonymous()}
}

// bench runs `amqpemu bench`: progress lines go to stderr, the result to
// stdout. An interrupted run still prints what it measured.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBenchFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	res, err := runBench(ctx, cfg, stderr)
	if res == nil {
		return err
	}
	if perr := writeResult(stdout, cfg, res); perr != nil {
		return errors.Join(err, fmt.Errorf("bench: write result: %w", perr))
	}
	return err
}

// benchPeers are the connections and links of a run.
type benchPeers struct {
	conns     []*goamqp.Conn
	senders   []*goamqp.Sender
	receivers []*goamqp.Receiver
}

// openPeers connects the receivers first, so that they are attached before
// the first message goes out, then the senders.
func openPeers(ctx context.Context, cfg benchConfig) (*benchPeers, error) {
	p := &benchPeers{}
	if err := p.open(ctx, cfg); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *benchPeers) open(ctx context.Context, cfg benchConfig) error {
	for range cfg.receivers {
		sess, err := p.dial(ctx, cfg)
		if err != nil {
			return err
		}
		rcv, err := sess.NewReceiver(ctx, cfg.receiveAddress, &goamqp.ReceiverOptions{Credit: int32(cfg.credit)})
		if err != nil {
			return fmt.Errorf("bench: attach receiver to %q: %w", cfg.receiveAddress, err)
		}
		p.receivers = append(p.receivers, rcv)
	}
	for range cfg.senders {
		sess, err := p.dial(ctx, cfg)
		if err != nil {
			return err
		}
		snd, err := sess.NewSender(ctx, cfg.address, nil)
		if err != nil {
			return fmt.Errorf("bench: attach sender to %q: %w", cfg.address, err)
		}
		p.senders = append(p.senders, snd)
	}
	return nil
}

// dial opens one connection with one session.
func (p *benchPeers) dial(ctx context.Context, cfg benchConfig) (*goamqp.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, benchDialTimeout)
	defer cancel()
	conn, err := goamqp.Dial(ctx, cfg.url, cfg.connOptions())
	if err != nil {
		return nil, fmt.Errorf("bench: connect to %s: %w", cfg.redactedURL(), err)
	}
	p.conns = append(p.conns, conn)
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("bench: begin session on %s: %w", cfg.redactedURL(), err)
	}
	return sess, nil
}

// close detaches the receivers, then closes every connection. The detach
// is queued behind the receivers' last dispositions and answered only once
// the server has read them, so no accepted message is handed back (and
// redelivered to the next run) because the connection closed first.
func (p *benchPeers) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range p.receivers {
		_ = r.Close(ctx) // the run is over: a close error changes nothing
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// benchRun is the state one run shares among its senders, receivers and
// progress loop.
type benchRun struct {
	cfg   benchConfig
	stats benchStats
	pace  *pacer
	start time.Time

	seq      atomic.Int64 // next sequence number to send
	target   atomic.Int64 // receivers stop once this many are in; MaxInt64 until known
	sendEnd  time.Duration
	hists    []*histogram // one per receiver, owned by it until it returns
	stopRecv context.CancelFunc
	abort    context.CancelCauseFunc
}

// runBench connects, runs and measures. It returns the result (nil when it
// could not connect) and the error that ended the run early, if any; an
// interrupted run (parent cancelled) returns its partial result and no error.
func runBench(parent context.Context, cfg benchConfig, progress io.Writer) (*benchResult, error) {
	ctx, cancel := context.WithTimeout(parent, cfg.timeout)
	defer cancel()
	ctx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	peers, err := openPeers(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer peers.close()

	r := &benchRun{cfg: cfg, pace: newPacer(cfg.rate), abort: abort}
	r.target.Store(math.MaxInt64)
	if cfg.senders == 0 && cfg.count > 0 {
		r.target.Store(cfg.count)
	}
	r.run(ctx, peers, progress)
	res := r.result(time.Since(r.start))

	switch cause := context.Cause(ctx); {
	case cause == nil:
		return res, nil
	case parent.Err() != nil:
		res.Interrupted = true
		return res, nil
	case errors.Is(cause, context.DeadlineExceeded):
		err = fmt.Errorf("bench: --timeout %v reached before the run finished", cfg.timeout)
	default:
		err = fmt.Errorf("bench: %w", cause)
	}
	res.Error = err.Error()
	return res, err
}

// run starts the receivers and the senders and waits for both to finish.
func (r *benchRun) run(ctx context.Context, p *benchPeers, progress io.Writer) {
	r.start = time.Now()
	// Receive-only runs receive for --duration; others drain what was sent.
	rctx, stopRecv := r.untilDuration(ctx, r.cfg.senders == 0)
	defer stopRecv()
	r.stopRecv = stopRecv
	recvDone := r.startReceivers(ctx, rctx, p.receivers)
	sendDone := r.startSenders(ctx, p.senders)
	r.monitor(sendDone, recvDone, progress)
}

// untilDuration returns a context that ends --duration after the start when
// bounded and --duration is set, else only when ctx does or it is cancelled.
func (r *benchRun) untilDuration(ctx context.Context, bounded bool) (context.Context, context.CancelFunc) {
	if bounded && r.cfg.duration > 0 {
		return context.WithDeadline(ctx, r.start.Add(r.cfg.duration))
	}
	return context.WithCancel(ctx)
}

// fail ends the run with err unless it is already ending (then err is only
// the echo of that).
func (r *benchRun) fail(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil {
		r.abort(err)
	}
}

func (r *benchRun) startSenders(ctx context.Context, senders []*goamqp.Sender) <-chan struct{} {
	sctx, cancel := r.untilDuration(ctx, true)
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { r.runSender(ctx, sctx, s) })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		cancel()
		close(done)
	}()
	return done
}

// runSender sends until the count is reached or sctx ends, with at most
// inflight deliveries the broker has not settled; a second goroutine waits
// for the settlements in order.
func (r *benchRun) runSender(ctx, sctx context.Context, snd *goamqp.Sender) {
	slots := make(chan struct{}, r.cfg.inflight)
	receipts := make(chan goamqp.SendReceipt, r.cfg.inflight)
	confirmed := make(chan struct{})
	go func() {
		defer close(confirmed)
		r.confirm(ctx, receipts, slots)
	}()
	r.fail(ctx, r.sendLoop(ctx, sctx, snd, receipts, slots))
	close(receipts)
	<-confirmed
}

func (r *benchRun) sendLoop(ctx, sctx context.Context, snd *goamqp.Sender, receipts chan<- goamqp.SendReceipt, slots chan struct{}) error {
	payload := make([]byte, r.cfg.size)
	for {
		select {
		case slots <- struct{}{}:
		case <-sctx.Done():
			return nil
		}
		// sctx ends a moment after its deadline (its timer cancels it from
		// another goroutine), so check the clock itself.
		if r.pace.wait(sctx) != nil || r.sendingOver() {
			return nil
		}
		seq, ok := r.claim()
		if !ok {
			return nil
		}
		receipt, err := snd.SendWithReceipt(ctx, r.message(seq, payload), nil)
		if err != nil {
			return fmt.Errorf("send to %q: %w", r.cfg.address, err)
		}
		receipts <- receipt // never blocks: it has room for every slot
	}
}

// sendingOver reports whether --duration has passed.
func (r *benchRun) sendingOver() bool {
	return r.cfg.duration > 0 && time.Since(r.start) >= r.cfg.duration
}

// confirm waits for each delivery's settlement and frees its slot.
func (r *benchRun) confirm(ctx context.Context, receipts <-chan goamqp.SendReceipt, slots <-chan struct{}) {
	for rc := range receipts {
		state, err := rc.Wait(ctx)
		<-slots
		switch {
		case err != nil:
			r.fail(ctx, fmt.Errorf("send to %q: %w", r.cfg.address, err))
		case isAccepted(state):
			r.stats.markSent(time.Since(r.start))
		default:
			r.stats.refused.Add(1)
		}
	}
}

func isAccepted(s goamqp.DeliveryState) bool {
	_, ok := s.(*goamqp.StateAccepted)
	return ok
}

// claim hands out the next sequence number, or false once count are out.
func (r *benchRun) claim() (int64, bool) {
	seq := r.seq.Add(1) - 1
	return seq, r.cfg.count == 0 || seq < r.cfg.count
}

// message builds message seq, stamped with the time it is sent: in an
// application property, and also in the payload, which is all that survives
// a device topic (the broker delivers the payload in the vendor's format).
func (r *benchRun) message(seq int64, payload []byte) *goamqp.Message {
	now := time.Now().UnixNano()
	m := goamqp.NewMessage(stampPayload(payload, now))
	m.ApplicationProperties = map[string]any{"sentAt": now, "seq": seq}
	return m
}

// payloadStamp marks a payload that starts with a send time.
const payloadStamp = "amqpemuT"

// stampPayload returns a copy of payload starting with payloadStamp and
// the send time (big-endian nanoseconds), when it is long enough to hold them.
func stampPayload(payload []byte, sentAt int64) []byte {
	if len(payload) < len(payloadStamp)+8 {
		return payload
	}
	out := make([]byte, len(payload))
	n := copy(out, payloadStamp)
	binary.BigEndian.PutUint64(out[n:], uint64(sentAt))
	copy(out[n+8:], payload[n+8:])
	return out
}

// payloadSentAt reads the send time stampPayload wrote, if any.
func payloadSentAt(data []byte) (int64, bool) {
	n := len(payloadStamp)
	if len(data) < n+8 || string(data[:n]) != payloadStamp {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(data[n:])), true
}

func (r *benchRun) startReceivers(ctx, rctx context.Context, receivers []*goamqp.Receiver) <-chan struct{} {
	var wg sync.WaitGroup
	for _, rcv := range receivers {
		h := newHistogram()
		r.hists = append(r.hists, h)
		wg.Go(func() { r.fail(ctx, r.runReceiver(ctx, rctx, rcv, h)) })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

// runReceiver receives and accepts until rctx ends.
func (r *benchRun) runReceiver(ctx, rctx context.Context, rcv *goamqp.Receiver, h *histogram) error {
	for rctx.Err() == nil { // Receive hands out prefetched messages even once rctx has ended
		m, err := rcv.Receive(rctx, nil)
		if err != nil {
			if rctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive from %q: %w", r.cfg.receiveAddress, err)
		}
		now := time.Now()
		if !r.admit() {
			// One more than asked for: give it back for another consumer.
			if err := rcv.ReleaseMessage(ctx, m); err != nil {
				return fmt.Errorf("release to %q: %w", r.cfg.receiveAddress, err)
			}
			return nil
		}
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			return fmt.Errorf("accept from %q: %w", r.cfg.receiveAddress, err)
		}
		r.record(m, now, h)
	}
	return nil
}

// admit counts a message in unless the receivers already have all they
// wait for, and stops the receivers once they do.
func (r *benchRun) admit() bool {
	n, target := r.stats.received.Add(1), r.target.Load()
	if n > target {
		r.stats.received.Add(-1)
	}
	if n >= target {
		r.stopRecv()
	}
	return n <= target
}

// record notes a received message's latency and arrival time. Messages
// the broker rewrote into the vendor format (sent to a device topic) carry
// no sentAt property; the send time stamped in their payload times them, or
// else their generateTime (set at ingest, millisecond precision).
func (r *benchRun) record(m *goamqp.Message, now time.Time, h *histogram) {
	if sentAt, ok := m.ApplicationProperties["sentAt"].(int64); ok {
		h.Record(now.UnixNano() - sentAt)
	} else if sentAt, ok := payloadSentAt(m.GetData()); ok {
		h.Record(now.UnixNano() - sentAt)
	} else if gt, ok := m.ApplicationProperties["generateTime"].(int64); ok {
		h.Record(max(now.UnixNano()-gt*int64(time.Millisecond), 0))
	} else {
		r.stats.untimed.Add(1)
	}
	r.stats.markReceived(now.Sub(r.start))
}

// progressSnap is what one progress line showed, to compute current rates.
type progressSnap struct {
	at             time.Duration
	sent, received int64
}

// monitor prints progress and decides when the receivers stop, until both
// the senders and the receivers are done.
func (r *benchRun) monitor(sendDone, recvDone <-chan struct{}, progress io.Writer) {
	tick, stopTick := tickEvery(r.cfg.progress, progress != nil)
	defer stopTick()
	idle, stopIdle := tickEvery(min(r.cfg.idle/4, 100*time.Millisecond), r.cfg.idle > 0 && r.cfg.receivers > 0)
	defer stopIdle()
	var last progressSnap
	for sendDone != nil || recvDone != nil {
		select {
		case <-sendDone:
			sendDone = nil
			r.sendersFinished()
		case <-recvDone:
			recvDone = nil
		case <-tick:
			last = r.printProgress(progress, last)
		case <-idle:
			if sendDone == nil {
				r.checkIdle()
			}
		}
	}
}

// tickEvery returns a channel that ticks every d and the function that stops
// it; unless on and d > 0 the channel is nil and never fires.
func tickEvery(d time.Duration, on bool) (<-chan time.Time, func()) {
	if !on || d <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// sendersFinished fixes how many messages the receivers wait for: all that
// were sent (receive-only runs fixed theirs at the start).
func (r *benchRun) sendersFinished() {
	r.sendEnd = time.Since(r.start)
	if r.cfg.senders > 0 {
		r.target.Store(r.stats.sent.Load())
	}
	if r.stats.received.Load() >= r.target.Load() {
		r.stopRecv()
	}
}

// checkIdle stops the receivers when nothing has come in for --idle since
// sending ended.
func (r *benchRun) checkIdle() {
	lastActive := max(r.sendEnd, time.Duration(r.stats.lastRecv.Load()))
	if time.Since(r.start)-lastActive >= r.cfg.idle {
		r.stopRecv()
	}
}

func (r *benchRun) printProgress(w io.Writer, prev progressSnap) progressSnap {
	now := progressSnap{time.Since(r.start), r.stats.sent.Load(), r.stats.received.Load()}
	dt := now.at - prev.at
	line := fmt.Sprintf("%6.1fs", now.at.Seconds())
	if r.cfg.senders > 0 {
		line += fmt.Sprintf("  sent %d (%.0f/s)", now.sent, rate(now.sent-prev.sent, dt))
	}
	if r.cfg.receivers > 0 {
		line += fmt.Sprintf("  received %d (%.0f/s)", now.received, rate(now.received-prev.received, dt))
	}
	if r.cfg.senders > 0 {
		// Receivers can see a message before its sender sees the settlement,
		// so the live backlog is floored at 0.
		line += fmt.Sprintf("  backlog %d", max(now.sent-now.received, 0))
	}
	_, _ = io.WriteString(w, line+"\n") // stderr gone: nowhere to report that
	return now
}

// pacer hands out send slots at a fixed rate shared by every sender: slot n
// is due at start + n/rate, so timer lateness never lowers the long-run rate
// (late slots go at once, in a burst). A sender that falls more than
// pacerMaxLag behind forgets the missed slots rather than bursting them all.
// A nil pacer does not limit.
type pacer struct {
	mu    sync.Mutex
	rate  float64
	start time.Time
	n     int64
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{rate: rate}
}

// reserve takes the next slot and returns when it is due.
func (p *pacer) reserve(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = now
	}
	due := p.start.Add(time.Duration(float64(p.n) / p.rate * float64(time.Second)))
	if now.Sub(due) > pacerMaxLag {
		p.start, p.n, due = now, 0, now
	}
	p.n++
	return due
}

// wait blocks until the next slot is due or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	d := time.Until(p.reserve(time.Now()))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
