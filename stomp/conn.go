package stomp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpemu/amqpemu/stomp/frame"
	"github.com/rs/zerolog"
)

const (
	// closeGrace bounds the writing of the last frames once a connection ends.
	closeGrace = 2 * time.Second
	// lingerTime is how long input is drained after an ERROR frame.
	lingerTime = time.Second
)

var errStopped = errors.New("connection stopped by the server")

// conn is one client connection. The reader goroutine (serve) owns the
// fields marked so; the writer goroutine owns its writer.
type conn struct {
	srv    *Server
	nc     net.Conn
	id     uint64
	remote string
	dl     *deadlines
	out    *outbox
	ackSeq atomic.Uint64 // the last ack id issued; the writer issues them

	wlog       zerolog.Logger  // the writer's: c.log changes as the client signs in
	ctx        context.Context // for sign-in and joining; cancelled by stop and at the end
	cancel     context.CancelFunc
	quit       chan struct{} // closed by stop
	stopOnce   sync.Once
	writerDone chan struct{}

	// Owned by the reader goroutine.
	log       zerolog.Logger
	rd        *frame.Reader
	principal *Principal // nil until CONNECT
	version   string     // the version agreed in CONNECTED; "" before
	sub       *subscription
}

func newConn(s *Server, nc net.Conn, id uint64) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{srv: s, nc: nc, id: id, remote: nc.RemoteAddr().String(),
		dl:  &deadlines{nc: nc, writeTimeout: s.cfg.WriteTimeout},
		out: newOutbox(), ctx: ctx, cancel: cancel, quit: make(chan struct{}), writerDone: make(chan struct{})}
	c.log = s.log.With().Uint64("conn", id).Str("remote", c.remote).Logger()
	c.wlog = c.log
	c.rd = frame.NewReader(c.dl, frame.Limits{MaxHeader: s.cfg.MaxHeaderSize, MaxFrame: s.cfg.MaxFrameSize,
		MaxBody: s.cfg.Broker.MaxMessageSize()})
	c.dl.expect(time.Now().Add(s.cfg.HandshakeTimeout), 0)
	return c
}

// serve runs the connection: the writer in its own goroutine, the reader
// here, until either ends it.
func (c *conn) serve() {
	c.log.Debug().Msg("connection opened")
	go (&writer{c: c}).run()
	c.finish(c.readLoop())
}

func (c *conn) readLoop() error {
	for {
		f, err := c.rd.ReadFrame()
		if err != nil {
			return c.readFailure(err)
		}
		if err := c.handle(f); err != nil {
			return err
		}
	}
}

// readFailure explains why reading ended, if the client is to be told.
func (c *conn) readFailure(err error) error {
	cause, stopped := c.dl.cause()
	switch {
	case stopped != "":
		return &protoError{message: stopped, cause: err}
	case isTimeout(err) && cause != causeNone:
		return timeoutError(cause, c.srv.cfg.HandshakeTimeout, c.principal != nil, c.idle())
	}
	if e := frameError(err); e != nil {
		return e
	}
	return err
}

// finish ends the connection: the subscription's unacknowledged messages
// go back to the broker at once, the client gets an ERROR (or the RECEIPT
// of its DISCONNECT), and the socket closes.
func (c *conn) finish(err error) {
	c.dropSubscription()
	c.cancel()
	if _, stopped := c.dl.cause(); stopped != "" {
		err = &protoError{message: stopped, cause: err} // whatever failed, it was the shutdown
	}
	var final []byte
	var pe *protoError
	var bye *disconnect
	switch {
	case errors.As(err, &bye):
		final = bye.receipt
		c.logClosed("client disconnected", nil)
	case errors.As(err, &pe):
		final = errorFrame(pe, c.v10())
		c.logError(pe)
	case errors.Is(err, io.EOF):
		c.logClosed("client closed the connection without DISCONNECT", nil)
	case errors.Is(err, errOutboxClosed), errors.Is(err, net.ErrClosed):
		c.logClosed("write failed", nil) // writeFailed logged why
	default:
		c.logClosed("connection lost", err)
	}
	c.dl.ending(closeGrace)
	c.out.close(final)
	<-c.writerDone
	if pe != nil && pe.clientFault {
		c.linger()
	}
	c.nc.Close()
}

// logClosed logs the end of a connection and why: at info level once the
// client signed in, at debug level for one that never sent CONNECT (a port
// probe, a health check).
func (c *conn) logClosed(reason string, err error) {
	ev := c.log.Debug()
	if c.principal != nil {
		ev = c.log.Info()
	}
	ev.Err(err).Str("reason", reason).Msg("connection closed")
}

// logError logs a connection ended with an ERROR frame, at info level when
// it was the client's fault (and counts it) or the client had signed in.
func (c *conn) logError(pe *protoError) {
	ev := c.log.Debug()
	if pe.clientFault {
		c.srv.cfg.Observer.ProtocolError()
	}
	if pe.clientFault || c.principal != nil {
		ev = c.log.Info()
	}
	ev.Err(pe.cause).Str("reason", pe.message).Bool("error_frame", true).Msg("connection closed")
}

// linger half-closes the connection after an ERROR frame and drains what
// the client still sends for a moment: closing a socket with unread input
// resets it, and the client could lose the ERROR frame.
func (c *conn) linger() {
	if !c.dl.lingerUntil(time.Now().Add(lingerTime)) {
		return
	}
	closeWrite(c.nc)
	io.Copy(io.Discard, io.LimitReader(c.nc, int64(2*c.srv.cfg.MaxFrameSize)))
}

// closeWrite sends the end of the stream (TLS close_notify, then TCP FIN)
// while reading stays open.
func closeWrite(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		tc.CloseWrite()
		nc = tc.NetConn()
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// stop is Shutdown's: the reader stops at once and the client is told reason.
func (c *conn) stop(reason string) {
	c.stopOnce.Do(func() {
		c.dl.stop(reason, closeGrace)
		close(c.quit)
		c.cancel()
	})
}

// writeFailed ends a connection whose socket no longer takes writes: no
// more frames are queued and the reader's wait ends with the socket.
func (c *conn) writeFailed(err error) {
	c.wlog.Debug().Err(err).Msg("write failed")
	c.out.close(nil)
	c.nc.Close()
}

// send queues a control frame for the writer.
func (c *conn) send(it outItem) error {
	return c.out.pushControl(it, c.quit)
}

// disconnect ends the connection at the client's request (§DISCONNECT).
type disconnect struct {
	receipt []byte // the RECEIPT frame owed, if any
}

func (*disconnect) Error() string { return "client disconnected" }
