package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/internal/connset"
)

// Config sets up a Server. Zero fields take the defaults noted.
type Config struct {
	Backend       Backend       // required
	Authenticator Authenticator // default AllowAll
	Logger        zerolog.Logger
	Observer      Observer // told of connections and errors (metrics); optional
	ContainerID   string   // default "amqpemu"

	// Mechanisms offered in SASL, in order. Default PLAIN then ANONYMOUS.
	Mechanisms []string
	// RequireSASL refuses clients that send the plain AMQP header.
	RequireSASL bool

	MaxFrameSize     uint32        // ours, default 65536, at least 512
	ChannelMax       uint16        // default 255
	HandleMax        uint32        // per session, default 4095
	MaxLinks         int           // per connection, default 1000
	IdleTimeout      time.Duration // silence after which a connection is closed; default 60 s (half is advertised)
	HandshakeTimeout time.Duration // one deadline for header, SASL and open together; default 15 s
	AttachTimeout    time.Duration // ReceiverOnly connections attach their receiver within this of open; default 15 s
	// MaxMessageSize bounds the messages clients send: advertised in the
	// attach of every link on which the server receives, and a delivery
	// over it detaches the link with amqp:link:message-size-exceeded.
	// Default DefaultMaxMessageSize; the binary sets the broker's limit.
	MaxMessageSize   uint64
	MaxSASLFrameSize uint32 // default 65536: SASL frames with tokens exceed 512
	// HeartbeatFloor is the shortest interval between the empty frames the
	// server sends, whatever idle time-out the peer asks for; default 1 s.
	// The open frame names it (HeartbeatFloorProperty).
	HeartbeatFloor time.Duration
	// MaxAddressLength bounds link source and target addresses, in bytes;
	// default 1024.
	MaxAddressLength int

	// ProducerCredit is the link credit granted to client senders, refilled at
	// half; default 256.
	ProducerCredit uint32
	// ConsumerPrefetch caps how many deliveries a sending link asks the backend
	// for ahead of sending them; default 256.
	ConsumerPrefetch uint32
	// WriteBufferLimit is how much encoded output a connection may hold
	// for a peer that does not read before it stops producing; default 4 MiB.
	WriteBufferLimit int

	// initialSeq is the first transfer-id of every session and the initial
	// delivery-count of every sending link, and initialDeliveryID the first
	// delivery-id; tests set them near 2^32 to exercise serial-number
	// wraparound.
	initialSeq        uint32
	initialDeliveryID uint32
}

// DefaultMaxMessageSize is Config.MaxMessageSize when none is set: the
// platform's 256 KiB, the broker's default too.
const DefaultMaxMessageSize = 256 << 10

// HeartbeatFloorProperty is the key, in the properties of the server's
// open frame, of the heartbeat floor in milliseconds (a uint): the server
// sends empty frames no more often than that, however short the idle
// time-out the client asks for.
const HeartbeatFloorProperty = "amqpemu:heartbeat-floor-ms"

// Observer watches the server: connections opening and closing, and every
// error the server sends (close, end or detach). Calls must not block.
type Observer interface {
	ConnectionOpened()
	ConnectionClosed()
	ProtocolError(condition string)
}

type noObserver struct{}

func (noObserver) ConnectionOpened()    {}
func (noObserver) ConnectionClosed()    {}
func (noObserver) ProtocolError(string) {}

func (c *Config) setDefaults() {
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.Authenticator == nil {
		c.Authenticator = AllowAll
	}
	if len(c.Mechanisms) == 0 {
		c.Mechanisms = []string{"PLAIN", "ANONYMOUS"}
	}
	orDefault(&c.ContainerID, "amqpemu")
	orDefault(&c.MaxFrameSize, 65536)
	c.MaxFrameSize = max(c.MaxFrameSize, 512)
	orDefault(&c.ChannelMax, 255)
	orDefault(&c.HandleMax, 4095)
	orDefault(&c.MaxLinks, 1000)
	orDefault(&c.IdleTimeout, 60*time.Second)
	orDefault(&c.HandshakeTimeout, 15*time.Second)
	orDefault(&c.AttachTimeout, 15*time.Second)
	orDefault(&c.MaxMessageSize, DefaultMaxMessageSize)
	orDefault(&c.MaxSASLFrameSize, 65536)
	orDefault(&c.HeartbeatFloor, time.Second)
	orDefault(&c.MaxAddressLength, 1024)
	orDefault(&c.ProducerCredit, 256)
	orDefault(&c.ConsumerPrefetch, 256)
	orDefault(&c.WriteBufferLimit, 4<<20)
}

// orDefault sets *v to def when it holds its zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("amqp: server closed")

// Server is an AMQP 1.0 server.
type Server struct {
	cfg    Config
	log    zerolog.Logger
	nextID atomic.Uint64

	conns connset.Set[*conn]
	quit  chan struct{} // closed by Shutdown: connections send close and end
}

// NewServer returns a server for cfg. It panics if cfg.Backend is nil.
func NewServer(cfg Config) *Server {
	if cfg.Backend == nil {
		panic("amqp: Config.Backend is nil")
	}
	cfg.setDefaults()
	return &Server{cfg: cfg, log: cfg.Logger, quit: make(chan struct{})}
}

// ListenAndServe listens on addr (TCP) and serves until Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// ListenAndServeTLS listens on addr with TLS from the first byte (amqps).
func (s *Server) ListenAndServeTLS(addr string, cfg *tls.Config) error {
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.conns.Serve(ln, s.startConn); err != connset.ErrClosed {
		return err
	}
	return ErrServerClosed
}

func (s *Server) startConn(nc net.Conn) {
	c := newConn(s, nc, s.nextID.Add(1))
	s.conns.Go(c, nc, func() {
		s.cfg.Observer.ConnectionOpened()
		defer s.cfg.Observer.ConnectionClosed()
		c.serve()
	})
}

// ConnCount is the number of open connections.
func (s *Server) ConnCount() int { return s.conns.Len() }

// Shutdown stops accepting, sends every connection a close frame
// (amqp:connection:forced) and waits for them to end or ctx to expire, after
// which the remaining sockets are closed. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	if _, first := s.conns.Close(); first {
		close(s.quit)
	}
	return s.conns.Wait(ctx)
}
