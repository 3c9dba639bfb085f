package broker

import (
	"time"

	"github.com/rs/zerolog"
)

// Config sets up a Broker. Zero fields take the vendor's defaults.
type Config struct {
	DataDir    string        // embedded JetStream store; required unless NATSURL is set
	NATSURL    string        // an external NATS JetStream server or cluster instead of the embedded one
	Retention  time.Duration // how long device messages are kept; default 24 h
	AckTimeout time.Duration // unsettled past this is redelivered; default 30 s
	MaxGroups  int           // default 1000
	MaxMembers int           // online clients per group; default 64
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
	orDefault(&c.MaxMessageSize, DefaultMaxMessageSize)
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
