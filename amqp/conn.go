package amqp

import (
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
// connection, session and link state), readLoop (the only socket reader)
// and, while there is output, one writeOut goroutine (see writer.go). Lock
// order: wmu is the only mutex; the mailbox's is never held with it.
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
	wbuf          []byte     // encoded output not yet handed to the writer; nil while idle
	spare         []byte     // the buffer the writer gave back, reused next
	writerBusy    bool       // a writeOut goroutine has a buffer
	wout          []byte     // the buffer for the writer flush starts, read by it
	startWriter   func()     // c.writeOut, made once
	boxes         [2]*[]byte // boxes[:nboxes] are for putWriteBuf, taken from writeBufPool
	nboxes        int
	handshakeEnd  *time.Timer // nil once no deadline is left to keep
	deadline      time.Time   // of the whole handshake: header, SASL and open
	opening       time.Time   // when the handshake succeeded

	// Owned by serve during the handshake, then by readLoop.
	rd readBuf

	// The socket's writers (see writer.go): a writeOut goroutine or the
	// heartbeat timer, each holding wmu while it writes.
	wmu     sync.Mutex
	wclosed bool          // guarded by wmu: the last frame is out, no more heartbeats
	epoch   time.Time     // set by newConn; lastOut counts from it (monotonic)
	lastOut atomic.Int64  // time.Duration since epoch of the last write
	hbEvery time.Duration // set by serve before the heartbeat timer starts
	hbTimer *time.Timer   // likewise; nil without heartbeats
	wfail   atomic.Bool

	in       chan inFrame
	mail     mailbox
	wdone    chan []byte    // writer → owner: the buffer it finished with
	done     chan struct{}  // closed when serve returns: deliveries are refused
	stopping chan struct{}  // closed when the owner stops reading frames
	rwg      sync.WaitGroup // readLoop and the writeOut goroutines
}

// inQueue is how many decoded frames the reader may hold for the owner: it
// decodes ahead while the owner works, and an idle connection keeps the
// queue's memory (64 bytes a frame) for its whole life.
const inQueue = 16

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	c := &conn{
		srv:      s,
		cfg:      &s.cfg,
		nc:       nc,
		id:       id,
		log:      s.log.With().Uint64("conn", id).Str("remote", nc.RemoteAddr().String()).Logger(),
		sessions: make(map[uint16]*session),
		in:       make(chan inFrame, inQueue),
		wdone:    make(chan []byte, 1),
		epoch:    time.Now(),
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
	c.startWriter = c.writeOut
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
	c.rd.reset(c.nc)
	if err := c.handshake(&c.rd); err != nil {
		c.log.Info().Str("mechanism", c.saslMech).Str("user", c.saslUser).Err(err).Msg("connection refused")
		c.rd.release()
		c.nc.Close()
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.log.Debug().Str("user", c.principal.Name).Str("mechanism", c.principal.Mechanism).Msg("authenticated")
	c.opening = time.Now()

	c.handshakeEnd = time.NewTimer(time.Until(c.deadline)) // what is left for the open
	c.rwg.Add(1)
	go c.readLoop(&c.rd)

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
		// A nil channel leaves its case out of the select, and the
		// goroutine parked in it holds no waiter for it.
		in, wdone := c.in, c.wdone
		if len(c.wbuf) >= c.cfg.WriteBufferLimit {
			in = nil // the peer is not reading: stop taking its frames
		}
		if !c.writerBusy {
			wdone = nil
		}
		var deadline <-chan time.Time
		if c.handshakeEnd != nil {
			deadline = c.handshakeEnd.C
		}
		select {
		case f := <-in:
			if err := c.handleFrame(f); err != nil {
				return err
			}
		case <-c.mail.notify:
			c.handleMail()
		case buf := <-wdone:
			c.writerDone(buf)
		case <-deadline:
			if err := c.checkDeadline(); err != nil {
				return err
			}
			c.endDeadline()
		case <-c.srv.quit:
			return &frames.Error{Condition: frames.ErrCondConnectionForced, Description: "server shutting down"}
		}
		c.pump()
		if len(c.wbuf) >= flushThreshold || !c.moreWork() {
			c.flush()
		}
		if !c.writerBusy && len(c.wbuf) == 0 {
			c.releaseWriteBufs() // idle: large output buffers go back to the pool
		}
	}
}

// endDeadline drops the handshake timer once it has nothing left to watch.
func (c *conn) endDeadline() {
	if c.handshakeEnd != nil {
		c.handshakeEnd.Stop()
		c.handshakeEnd = nil
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
	c.flushAll()
	c.stopHeartbeats()
	c.halfClose()
	c.rwg.Wait() // readLoop ends on EOF or halfClose's deadline
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
	c.endDeadline()
	for _, s := range c.sessions {
		s.closeLinks()
	}
}

// readLoop reads and decodes frames until the socket fails.
func (c *conn) readLoop(br *readBuf) {
	defer c.rwg.Done()
	defer br.release()
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

func (c *conn) readFrame(br io.Reader, hb []byte) (inFrame, error) {
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

func (c *conn) isStopping() bool {
	select {
	case <-c.stopping:
		return true
	default:
		return false
	}
}
