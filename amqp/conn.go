package amqp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// inFrame is one decoded frame (or a read error) from the reader goroutine.
type inFrame struct {
	channel uint16
	typ     uint8
	body    frames.Body // nil for an empty (heartbeat) frame
	payload []byte      // transfer payload
	err     error
}

// conn is one client connection. Goroutines: serve (the owner of all
// connection, session and link state), readLoop (the only socket reader) and
// writeLoop (the only socket writer after the handshake).
type conn struct {
	srv       *Server
	cfg       *Config
	nc        net.Conn
	id        uint64
	log       zerolog.Logger
	principal *Principal // set by the handshake

	// What the client's sasl-init said, for the log of a refusal. Owned by serve.
	saslMech, saslUser string

	maxFrameIn atomic.Uint32 // largest frame the reader accepts

	// Owned by serve.
	opened        bool
	peerContainer string
	peerCloseErr  *frames.Error // the error in the client's close, if any
	peerMaxFrame  uint32
	channelMax    uint16
	sessions      map[uint16]*session // by the peer's channel
	linkCount     int
	receiverSeen  bool       // a receiver link was attached (ReceiverOnly connections)
	ready         []*link    // sending links that may have something to send
	dispSessions  []*session // sessions with a pending disposition
	mailSpare     []event
	wbuf          []byte // encoded output not yet handed to the writer
	spare         []byte // the buffer the writer gave back, reused next
	writerBusy    bool
	handshakeEnd  *time.Timer
	deadline      time.Time // of the whole handshake: header, SASL and open
	opening       time.Time // when the handshake succeeded

	in       chan inFrame
	mail     mailbox
	wq       chan []byte // owner → writer
	wdone    chan []byte // writer → owner: the buffer it finished with
	hb       chan time.Duration
	done     chan struct{} // closed when serve returns: deliveries are refused
	stopping chan struct{} // closed when the owner stops reading frames
	rwg      sync.WaitGroup
	wfail    atomic.Bool
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{
		srv:      s,
		cfg:      &s.cfg,
		nc:       nc,
		id:       id,
		log:      s.log.With().Uint64("conn", id).Str("remote", nc.RemoteAddr().String()).Logger(),
		sessions: make(map[uint16]*session),
		in:       make(chan inFrame, 64),
		wq:       make(chan []byte, 1),
		wdone:    make(chan []byte, 1),
		hb:       make(chan time.Duration, 1),
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
	c.mail.notify = make(chan struct{}, 1)
	c.maxFrameIn.Store(frames.MinMaxFrameSize)
	return c
}

// write writes b synchronously; only the handshake uses it.
func (c *conn) write(b []byte) error {
	c.nc.SetWriteDeadline(c.deadline)
	_, err := c.nc.Write(b)
	return err
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer close(c.done)
	// One deadline for header, SASL and open: a peer trickling bytes must
	// not get a fresh one at each step.
	c.deadline = time.Now().Add(c.cfg.HandshakeTimeout)
	c.nc.SetDeadline(c.deadline)
	br := bufio.NewReaderSize(c.nc, 64<<10)
	if err := c.handshake(br); err != nil {
		c.log.Info().Str("mechanism", c.saslMech).Str("user", c.saslUser).Err(err).Msg("connection refused")
		c.nc.Close()
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.log.Debug().Str("user", c.principal.Name).Str("mechanism", c.principal.Mechanism).Msg("authenticated")
	c.opening = time.Now()

	c.handshakeEnd = time.NewTimer(time.Until(c.deadline)) // what is left for the open
	c.rwg.Add(2)
	go c.readLoop(br)
	go c.writeLoop()

	err := c.loop()
	c.closeAll()
	if cc, ok := c.srv.cfg.Backend.(ConnCloser); ok {
		cc.ConnClosed(c.id)
	}
	c.finish(err)
}

// loop is the owner's event loop. It returns why the connection ends.
func (c *conn) loop() error {
	for {
		in := c.in
		if len(c.wbuf) >= c.cfg.WriteBufferLimit {
			in = nil // the peer is not reading: stop taking its frames
		}
		select {
		case f := <-in:
			if err := c.handleFrame(f); err != nil {
				return err
			}
		case <-c.mail.notify:
			c.handleMail()
		case buf := <-c.wdone:
			c.writerBusy = false
			c.spare = buf
		case <-c.handshakeEnd.C:
			if err := c.checkDeadline(); err != nil {
				return err
			}
		case <-c.srv.quit:
			return &frames.Error{Condition: frames.ErrCondConnectionForced, Description: "server shutting down"}
		}
		c.pump()
		if len(c.wbuf) >= flushThreshold || !c.moreWork() {
			c.flush()
		}
	}
}

// checkDeadline runs when the handshake timer fires: before open it bounds
// the handshake, after open (ReceiverOnly connections) the receiver attach.
func (c *conn) checkDeadline() error {
	switch {
	case !c.opened:
		return errHandshakeTimeout
	case c.principal.ReceiverOnly && !c.receiverSeen:
		return &frames.Error{Condition: frames.ErrCondResourceLimitExceeded,
			Description: fmt.Sprintf("no receiver link attached within %s of open", c.cfg.AttachTimeout)}
	}
	return nil
}

// flushThreshold is how much output the owner gathers before handing it to
// the writer even while more work is queued.
const flushThreshold = 64 << 10

// moreWork reports whether frames or backend events are already waiting:
// then the owner handles them first and writes their output in one go,
// rather than a write syscall per delivery.
func (c *conn) moreWork() bool {
	return len(c.in) > 0 || len(c.mail.notify) > 0
}

var (
	errHandshakeTimeout = errors.New("amqp: no open frame within the handshake time-out")
	errPeerClosed       = errors.New("amqp: peer closed the connection")
)

// flush hands the pending output to the writer when it is idle.
func (c *conn) flush() {
	if c.writerBusy || len(c.wbuf) == 0 {
		return
	}
	c.writerBusy = true
	c.wq <- c.wbuf
	c.wbuf, c.spare = c.spare[:0], nil
}

// send appends one frame to the output.
func (c *conn) send(channel uint16, body frames.Body) {
	if c.log.GetLevel() <= zerolog.TraceLevel {
		c.log.Trace().Uint16("channel", channel).Stringer("frame", body).Msg("send")
	}
	c.wbuf = frames.AppendFrame(c.wbuf, frames.TypeAMQP, channel, body, nil)
}

// finish sends the close frame err calls for, flushes the output and closes the socket.
func (c *conn) finish(err error) {
	var closeErr *frames.Error
	sendClose := true
	switch {
	case errors.Is(err, errPeerClosed):
		// the close reply is already in wbuf
	case errors.As(err, &closeErr):
	case errors.Is(err, errHandshakeTimeout):
		closeErr = &frames.Error{Condition: frames.ErrCondResourceLimitExceeded, Description: err.Error()}
	default:
		sendClose = false // the socket is gone
	}
	if sendClose && closeErr != nil {
		if !c.opened {
			// §2.4.1: open is each side's first frame, even when the
			// connection is closed at once with an error.
			c.send(0, &frames.Open{ContainerID: c.cfg.ContainerID, MaxFrameSize: c.cfg.MaxFrameSize, ChannelMax: c.cfg.ChannelMax})
		}
		c.send(0, &frames.Close{Error: closeErr})
	}
	if closeErr != nil {
		c.cfg.Observer.ProtocolError(string(closeErr.Condition))
	}
	c.logClosed(err, closeErr)
	close(c.stopping)
	c.mail.close()
	// Hand the rest of the output to the writer, then let it finish.
	if c.writerBusy {
		c.spare = <-c.wdone
		c.writerBusy = false
	}
	c.flush()
	close(c.wq)
	c.rwg.Wait() // writeLoop flushes and half-closes; readLoop ends on EOF or the deadline
	c.nc.Close()
}

// logClosed logs the end of the connection and why: the client closed it
// (with its error, if any), we closed it with closeErr, or the socket failed.
func (c *conn) logClosed(err error, closeErr *frames.Error) {
	ev := c.log.Info().Str("container", c.peerContainer).Dur("duration", time.Since(c.opening))
	switch {
	case errors.Is(err, errPeerClosed):
		ev = ev.Str("by", "client")
		if e := c.peerCloseErr; e != nil {
			ev = ev.Str("condition", string(e.Condition)).Str("description", e.Description)
		}
	case closeErr != nil:
		ev = ev.Str("by", "server").Str("condition", string(closeErr.Condition)).Str("description", closeErr.Description)
	default:
		ev = ev.Str("by", "network").AnErr("error", err)
	}
	ev.Msg("connection closed")
}

// closeAll detaches every link so the backend takes back what was in flight.
func (c *conn) closeAll() {
	c.handshakeEnd.Stop()
	for _, s := range c.sessions {
		s.closeLinks()
	}
}

// readLoop reads and decodes frames until the socket fails.
func (c *conn) readLoop(br *bufio.Reader) {
	defer c.rwg.Done()
	var hb [frames.HeaderSize]byte
	lastDeadline := time.Time{}
	for {
		if now := time.Now(); now.Sub(lastDeadline) > c.cfg.IdleTimeout/8 && !c.isStopping() {
			c.nc.SetReadDeadline(now.Add(c.cfg.IdleTimeout))
			lastDeadline = now
		}
		f, err := c.readFrame(br, hb[:])
		if err != nil {
			f = inFrame{err: err}
		}
		select {
		case c.in <- f:
		case <-c.stopping:
			return
		}
		if err != nil {
			// After a protocol error the socket still works: read and drop
			// whatever follows (the client's close, say) until the peer or
			// halfClose's deadline ends it, so closing does not reset the
			// connection before the client has read our close frame.
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
				io.Copy(io.Discard, br)
			}
			return
		}
	}
}

// Errors the reader reports; handleFrame maps them to close conditions.
var (
	errIdle          = errors.New("idle time-out")
	errFrameTooLarge = errors.New("frame too large")
)

func (c *conn) readFrame(br *bufio.Reader, hb []byte) (inFrame, error) {
	if _, err := io.ReadFull(br, hb); err != nil {
		return inFrame{}, readErr(err)
	}
	h, err := frames.ParseHeader(hb)
	if err != nil {
		return inFrame{}, err
	}
	if limit := c.maxFrameIn.Load(); h.Size > limit {
		return inFrame{}, fmt.Errorf("%w: %d bytes, max-frame-size is %d", errFrameTooLarge, h.Size, limit)
	}
	buf := make([]byte, h.Size-frames.HeaderSize)
	if _, err := io.ReadFull(br, buf); err != nil {
		return inFrame{}, readErr(err)
	}
	body, payload, err := frames.ParseBody(h.Type, buf[int(h.DataOffset)*4-frames.HeaderSize:])
	if err != nil {
		return inFrame{}, err
	}
	return inFrame{channel: h.Channel, typ: h.Type, body: body, payload: payload}, nil
}

func readErr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errIdle
	}
	return err
}

// writeLoop writes the owner's buffers and sends empty frames when the
// connection would otherwise be silent for half the peer's idle time-out.
func (c *conn) writeLoop() {
	defer c.rwg.Done()
	var interval time.Duration
	hb := time.NewTimer(time.Hour)
	hb.Stop()
	for {
		select {
		case buf, ok := <-c.wq:
			if !ok {
				c.halfClose()
				return
			}
			c.writeOut(buf)
			c.wdone <- buf[:0]
			if interval > 0 {
				hb.Reset(interval)
			}
		case interval = <-c.hb:
			hb.Reset(interval)
		case <-hb.C:
			c.writeOut(frames.EmptyFrame)
			hb.Reset(interval)
		}
	}
}

func (c *conn) writeOut(b []byte) {
	if c.wfail.Load() {
		return
	}
	// A peer that reads nothing for a whole idle period is treated as gone.
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.IdleTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.wfail.Store(true)
		c.log.Debug().Err(err).Msg("write failed")
		c.nc.Close()
	}
}

// halfClose ends our side after the last frame so the peer reads the close
// frame before the socket goes, then closes once the peer has closed too.
func (c *conn) halfClose() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && !c.wfail.Load() {
		tc.CloseWrite()
		// readLoop sees the peer's EOF, or this deadline, and returns.
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		return
	}
	c.nc.Close()
}

func (c *conn) isStopping() bool {
	select {
	case <-c.stopping:
		return true
	default:
		return false
	}
}
