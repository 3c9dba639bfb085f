package kafka

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/connset"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("kafka: server closed")

// Backend is what the listener needs from the engine; *broker.Broker
// satisfies it.
type Backend interface {
	Topic(ctx context.Context, name string) (broker.KafkaTopic, error)
	EnsureTopic(ctx context.Context, name string) (broker.KafkaTopic, error)
	Topics(ctx context.Context) ([]broker.KafkaTopic, error)
	Produce(ctx context.Context, topic string, partition int32, recs []broker.KafkaRecord) (int64, error)
	Read(ctx context.Context, r broker.ReadRequest) (broker.ReadResult, error)
	Bounds(ctx context.Context) (broker.PartitionBounds, error)
	OffsetForTime(ctx context.Context, t time.Time) (int64, error)
	NotifyTopics(topics ...string) (<-chan struct{}, func(), error)
	EnsureKafkaGroup(ctx context.Context, name string) (broker.KafkaGroup, error)
	CommitOffsets(ctx context.Context, group string, offs []broker.CommittedOffset) error
	CommittedOffsets(ctx context.Context, group string) ([]broker.CommittedOffset, error)
	MaxMessageSize() int
}

// Config sets up a Server. Zero fields take the defaults noted.
type Config struct {
	Backend Backend // required
	Logger  zerolog.Logger
	// Advertised is the host:port Metadata and FindCoordinator tell
	// clients to connect to; default the address each client connected to
	// (which, behind a port mapping such as a container's, clients may not
	// reach: give the mapped address then, as Kafka's advertised.listeners).
	Advertised string
	// MaxRequestSize bounds one request frame; default 100 MiB, Kafka's
	// socket.request.max.bytes.
	MaxRequestSize int
	// MaxWait bounds how long a Fetch waits for records, whatever the
	// client asks; default 10 s.
	MaxWait time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeouts
	// members ask for; defaults 100 ms and 30 min.
	MinSessionTimeout, MaxSessionTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxRequestSize <= 0 {
		c.MaxRequestSize = 100 << 20
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 10 * time.Second
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 100 * time.Millisecond
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 30 * time.Minute
	}
}

// Server is a Kafka listener.
type Server struct {
	cfg       Config
	b         Backend
	log       zerolog.Logger
	nextID    atomic.Uint64
	groups    *coordinator
	producers producers

	// ctx ends at Shutdown: it ends waiting fetches and joins.
	ctx    context.Context
	cancel context.CancelFunc

	conns connset.Set[*conn]
}

// NewServer returns a server for cfg; it panics if cfg.Backend is nil.
func NewServer(cfg Config) *Server {
	if cfg.Backend == nil {
		panic("kafka: Config.Backend is nil")
	}
	cfg.setDefaults()
	s := &Server{cfg: cfg, b: cfg.Backend, log: cfg.Logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.groups = newCoordinator(s)
	return s
}

// Serve accepts connections on ln until Shutdown or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.conns.Serve(ln, s.startConn); err != connset.ErrClosed {
		return err
	}
	return ErrServerClosed
}

// Shutdown stops accepting, ends waiting requests and closes every
// connection once its request in progress is answered, or at ctx's end.
// It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	open, _ := s.conns.Close()
	for _, c := range open {
		c.nc.SetReadDeadline(time.Now())
	}
	err := s.conns.Wait(ctx)
	s.groups.stop()
	return err
}

// ActiveMembers is how many members group has joined (0 for a group the
// listener does not know): the control plane refuses offset resets while
// it is not 0.
func (s *Server) ActiveMembers(group string) int { return s.groups.members(group) }

// conn is one client connection; serve owns every field.
type conn struct {
	s   *Server
	nc  net.Conn
	id  uint64
	log zerolog.Logger
	ctx context.Context // ends when the connection or the server does
}

func (s *Server) startConn(nc net.Conn) {
	c := &conn{s: s, nc: nc, id: s.nextID.Add(1)}
	c.log = s.log.With().Uint64("conn", c.id).Str("remote", nc.RemoteAddr().String()).Logger()
	s.conns.Go(c, nc, c.serve)
}

// serve reads requests and answers them one at a time, in order.
func (c *conn) serve() {
	defer c.nc.Close()
	ctx, cancel := context.WithCancel(c.s.ctx)
	defer cancel()
	c.ctx = ctx
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var in, out []byte
	for {
		frame, err := readFrame(r, in, c.s.cfg.MaxRequestSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
				c.log.Warn().Err(err).Msg("kafka connection closed")
			}
			return
		}
		// The next frame is read into the same bytes, and a request's []byte
		// fields are slices of them: whatever outlives the request is copied.
		in = frame
		h, req, err := parseRequest(frame)
		if err != nil {
			c.log.Warn().Err(err).Int16("api", h.key).Int16("version", h.version).Msg("kafka connection closed: malformed request")
			return
		}
		resp := c.handle(h, req)
		if resp == nil { // Produce with acks 0
			continue
		}
		out = appendResponse(out[:0], h, resp)
		c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.nc.Write(out); err != nil {
			c.log.Debug().Err(err).Msg("kafka connection closed on write")
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handle answers one request; req is nil for an ApiVersions request of a
// version the server does not know.
func (c *conn) handle(h header, req kmsg.Request) kmsg.Response {
	if req == nil {
		return apiVersionsUnsupported()
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Minute)
	defer cancel()
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		return c.apiVersions(r)
	case *kmsg.MetadataRequest:
		return c.metadata(ctx, r)
	case *kmsg.ProduceRequest:
		return c.produce(ctx, r)
	case *kmsg.FetchRequest:
		return c.fetch(ctx, r)
	case *kmsg.ListOffsetsRequest:
		return c.listOffsets(ctx, r)
	case *kmsg.FindCoordinatorRequest:
		return c.findCoordinator(r)
	case *kmsg.InitProducerIDRequest:
		return c.initProducerID(r)
	case *kmsg.JoinGroupRequest:
		return c.s.groups.join(ctx, c, h, r)
	case *kmsg.SyncGroupRequest:
		return c.s.groups.sync(ctx, r)
	case *kmsg.HeartbeatRequest:
		return c.s.groups.heartbeat(r)
	case *kmsg.LeaveGroupRequest:
		return c.s.groups.leave(r)
	case *kmsg.OffsetCommitRequest:
		return c.offsetCommit(ctx, r)
	case *kmsg.OffsetFetchRequest:
		return c.offsetFetch(ctx, r)
	case *kmsg.DescribeGroupsRequest:
		return c.s.groups.describe(r)
	case *kmsg.ListGroupsRequest:
		return c.s.groups.list(r)
	}
	resp := req.ResponseKind()
	return resp
}
