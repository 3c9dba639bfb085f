package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/rs/zerolog"
)

// Config sets up a Broker. Zero fields take the vendor's defaults.
type Config struct {
	DataDir string // embedded JetStream store; required unless NATSURLs is set
	// NATSURLs are the servers of an external NATS JetStream server or
	// cluster used instead of the embedded one; the connection moves
	// between them and reconnects forever.
	NATSURLs []string
	// Replicas is how many copies JetStream keeps of the stream and of
	// every KV bucket (consumers follow the stream): 1 to 5, default 1.
	// Over 1 needs a JetStream cluster (an external one, or an embedded
	// node with ClusterListen) of at least that many servers.
	Replicas int

	// With ClusterListen set, the embedded server is a node of a NATS
	// JetStream cluster (nats-server's own routes and RAFT groups): the
	// other nodes reach it there, and it routes to Routes. Its store is
	// DataDir, so each node needs its own.
	ServerName    string   // this node's name, unique in the cluster; required with ClusterListen
	ClusterName   string   // the same on every node; default DefaultClusterName
	ClusterListen string   // host:port for routes from the other nodes
	Routes        []string // nats-route://host:port of the other nodes (this one may be listed too)

	Retention  time.Duration // how long device messages are kept; default 24 h
	AckTimeout time.Duration // unsettled past this is redelivered; default 30 s
	MaxGroups  int           // default 1000
	MaxMembers int           // online clients per group; default 64
	// MemberTTL is, on a shared engine, how long the member slots of an
	// amqpemu node that stopped renewing them (it died) stay taken;
	// default 15 s. Every node of a cluster should use the same.
	MemberTTL time.Duration
	// MaxMessageSize bounds a device message's payload and a generic
	// queue's message; default DefaultMaxMessageSize (256 KiB).
	MaxMessageSize int
	Logger         zerolog.Logger
	// Observer, if set, is told of every delivery and settlement (metrics).
	Observer Observer
}

// Observer watches traffic per group; label is the group id, or the
// address of a generic queue. Calls come from dispatch goroutines and must
// not block.
type Observer interface {
	Delivered(label string, redelivered bool)
	Settled(label string, o Outcome)
}

// QueueObserver, when the Observer also implements it, is told of generic
// queue traffic instead of Delivered and Settled, so that what watches
// groups (metrics) can keep queues apart; label is then the address.
type QueueObserver interface {
	QueueDelivered(address string, redelivered bool)
	QueueSettled(address string, o Outcome)
}

// IngestObserver, when the Observer also implements it, is told of device
// messages stored, from any front end (HTTP, AMQP senders, …).
type IngestObserver interface {
	Ingested(n int)
}

// noObserver is the Observer when none is configured.
type noObserver struct{}

func (noObserver) Delivered(string, bool)  {}
func (noObserver) Settled(string, Outcome) {}

func (c *Config) setDefaults() {
	orDefault(&c.Retention, 24*time.Hour)
	orDefault(&c.AckTimeout, 30*time.Second)
	orDefault(&c.MaxGroups, 1000)
	orDefault(&c.MaxMembers, 64)
	orDefault(&c.MemberTTL, 15*time.Second)
	orDefault(&c.MaxMessageSize, DefaultMaxMessageSize)
	orDefault(&c.Replicas, 1)
	if c.ClusterListen != "" {
		orDefault(&c.ClusterName, DefaultClusterName)
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
}

// orDefault sets *v to def when it holds its zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// DefaultClusterName names an embedded cluster whose ClusterName is unset.
const DefaultClusterName = "amqpemu"

// MaxReplicas is the most copies JetStream keeps of a stream.
const MaxReplicas = 5

// ErrConfig marks a Config that cannot work; Open returns it wrapped.
var ErrConfig = errors.New("broker: bad configuration")

// validate checks the clustering fields together, after setDefaults.
func (c *Config) validate() error {
	embedded := len(c.NATSURLs) == 0
	switch {
	case c.Replicas < 1 || c.Replicas > MaxReplicas:
		return fmt.Errorf("%w: Replicas %d: want 1 to %d", ErrConfig, c.Replicas, MaxReplicas)
	case !embedded && (c.ClusterListen != "" || len(c.Routes) > 0):
		return fmt.Errorf("%w: ClusterListen and Routes cluster the embedded server; with NATSURLs the cluster is the external one", ErrConfig)
	case len(c.Routes) > 0 && c.ClusterListen == "":
		return fmt.Errorf("%w: Routes need ClusterListen (the other nodes route back to it)", ErrConfig)
	case embedded && c.Replicas > 1 && c.ClusterListen == "":
		return fmt.Errorf("%w: Replicas %d needs a JetStream cluster: set ClusterListen and Routes, or NATSURLs of a cluster", ErrConfig, c.Replicas)
	case c.ClusterListen != "" && c.ServerName == "":
		return fmt.Errorf("%w: a clustered node needs a ServerName unique in its cluster", ErrConfig)
	}
	if c.ClusterListen != "" {
		if _, _, err := splitHostPort(c.ClusterListen); err != nil {
			return fmt.Errorf("%w: ClusterListen %q: %w", ErrConfig, c.ClusterListen, err)
		}
	}
	if _, err := routeURLs(c.Routes); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	for _, u := range c.NATSURLs {
		if _, err := url.Parse(u); err != nil || u == "" {
			return fmt.Errorf("%w: NATS URL %q is not a URL", ErrConfig, u)
		}
	}
	return nil
}

// splitHostPort splits host:port, the port a number from 0 to 65535.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", 0, err
	}
	return host, p, nil
}

// routeURLs parses routes, each nats-route://host:port (or nats://).
func routeURLs(routes []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(routes))
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "nats-route" && u.Scheme != "nats") || u.Port() == "" {
			return nil, fmt.Errorf("route %q: want nats-route://host:port", r)
		}
		out = append(out, u)
	}
	return out, nil
}
