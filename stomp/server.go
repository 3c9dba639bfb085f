package stomp

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/connset"
)

// Config sets up a Server. Zero fields take the defaults noted.
type Config struct {
	Broker        *broker.Broker // required
	Authenticator Authenticator  // default AllowAll; the binary wires SignedAuthenticator
	Logger        zerolog.Logger
	Observer      Observer // told of connections and errors (metrics); optional

	// HandshakeTimeout bounds the wait for CONNECT after the connection
	// opens, and for SUBSCRIBE after CONNECT (or UNSUBSCRIBE): the platform
	// closes connections that consume nothing within 15 s. Default 15 s.
	HandshakeTimeout time.Duration
	// MaxFrameSize bounds a client frame, headers and body; default 1 MiB,
	// or more when the broker's message size limit with MaxHeaderSize needs
	// it. A body beyond the broker's MaxMessageSize is refused whatever
	// this is.
	MaxFrameSize int
	// MaxHeaderSize bounds a client frame's command and headers; default 64 KiB.
	MaxHeaderSize int
	// Prefetch is how many MESSAGE frames a connection may hold
	// unacknowledged (ack client and client-individual), or queued and not
	// yet written to the socket (ack auto). Default 256.
	Prefetch int
	// HeartbeatFloor is the shortest interval the server sends heart-beats
	// at, however often a client asks; default 100 ms.
	HeartbeatFloor time.Duration
	// ClientHeartbeat is how often the server asks clients that can send
	// heart-beats to send them; one silent for twice the negotiated
	// interval is disconnected. Default 10 s.
	ClientHeartbeat time.Duration
	// WriteTimeout ends a connection whose client has not taken a write
	// for this long (it stopped reading); default 60 s.
	WriteTimeout time.Duration
}

// Observer watches the server. Calls must not block.
type Observer interface {
	Connected()
	Disconnected()
	// ProtocolError counts an ERROR frame sent for the client's fault
	// (bad frame, refused sign-in or subscription, timeout); the ERROR
	// frames of a shutdown are not counted.
	ProtocolError()
}

type noObserver struct{}

func (noObserver) Connected()     {}
func (noObserver) Disconnected()  {}
func (noObserver) ProtocolError() {}

func (c *Config) setDefaults() {
	if c.Authenticator == nil {
		c.Authenticator = AllowAll
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	orDefault(&c.HandshakeTimeout, 15*time.Second)
	orDefault(&c.MaxHeaderSize, 64<<10)
	orDefault(&c.MaxFrameSize, max(1<<20, c.Broker.MaxMessageSize()+c.MaxHeaderSize))
	c.MaxHeaderSize = min(c.MaxHeaderSize, c.MaxFrameSize)
	orDefault(&c.Prefetch, 256)
	orDefault(&c.HeartbeatFloor, 100*time.Millisecond)
	orDefault(&c.ClientHeartbeat, 10*time.Second)
	orDefault(&c.WriteTimeout, 60*time.Second)
}

// orDefault sets *v to def when it holds its zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("stomp: server closed")

// Server is a STOMP 1.2 server in front of a broker.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	nextID atomic.Uint64

	conns connset.Set[*conn]
}

// NewServer returns a server for cfg. It panics if cfg.Broker is nil.
func NewServer(cfg Config) *Server {
	if cfg.Broker == nil {
		panic("stomp: Config.Broker is nil")
	}
	cfg.setDefaults()
	return &Server{cfg: cfg, log: cfg.Logger}
}

// Serve accepts connections on ln until Shutdown or an accept error. For
// STOMP over TLS pass a listener from tls.NewListener.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.conns.Serve(ln, s.startConn); err != connset.ErrClosed {
		return err
	}
	return ErrServerClosed
}

func (s *Server) startConn(nc net.Conn) {
	c := newConn(s, nc, s.nextID.Add(1))
	s.conns.Go(c, nc, func() {
		s.cfg.Observer.Connected()
		defer s.cfg.Observer.Disconnected()
		c.serve()
	})
}

// ConnCount is the number of open connections.
func (s *Server) ConnCount() int { return s.conns.Len() }

// Shutdown stops accepting, sends every connection an ERROR frame ("server
// shutting down"), hands what they held unacknowledged back to the broker
// and waits for them to close, or for ctx to expire, after which the
// remaining sockets are closed. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	open, _ := s.conns.Close()
	for _, c := range open {
		c.stop(msgShuttingDown)
	}
	return s.conns.Wait(ctx)
}
