package amqp

import (
	"context"
	"errors"
	"net"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// Principal is who a connection authenticated as.
type Principal struct {
	Name      string // the SASL user name; empty for anonymous
	Mechanism string // PLAIN, ANONYMOUS, or "" for a connection without SASL
	// Data is whatever the authenticator attached (the broker uses it to bind
	// a connection to a consumer group). The server does not look at it.
	Data any
	// ReceiverOnly restricts the connection the way the IoT platform does
	// for its consumers: one receiver link at a time, sender links refused
	// with amqp:not-allowed, and a receiver attached within
	// Config.AttachTimeout of open or the connection is closed.
	ReceiverOnly bool
}

// Credentials are what a client presented during SASL.
type Credentials struct {
	Mechanism string // PLAIN or ANONYMOUS; "" when the client skipped SASL
	Username  string
	Password  string
	Remote    net.Addr
}

// ErrAuthFailed is returned by an Authenticator to refuse credentials.
var ErrAuthFailed = errors.New("amqp: authentication failed")

// Authenticator decides who may connect. A non-nil error refuses the
// connection with SASL outcome auth.
type Authenticator interface {
	Authenticate(ctx context.Context, c Credentials) (*Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, c Credentials) (*Principal, error)

func (f AuthenticatorFunc) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	return f(ctx, c)
}

// AllowAll accepts every client and names it by its user name.
var AllowAll = AuthenticatorFunc(func(_ context.Context, c Credentials) (*Principal, error) {
	return &Principal{Name: c.Username, Mechanism: c.Mechanism}, nil
})

// LinkRequest describes a link a client asks to attach.
type LinkRequest struct {
	Principal   *Principal
	Address     string // the source address for consumers, the target address for producers
	LinkName    string
	ContainerID string // the client's container-id
	ConnID      uint64
	Remote      net.Addr
	// Logger is the connection's (its fields name the connection and the
	// remote address), for the backend to log about the link.
	Logger zerolog.Logger
	// Attach is the client's attach, for backends that need more than the
	// address (the reply address of a request-response link's receiver, its
	// properties or capabilities). Read only.
	Attach *frames.Attach
}

// NodeNamer is implemented by a Consumer or Producer that can say what
// the link attached to ("group DEFAULT_GROUP", "generic queue q"); the
// server names it when it logs the attach.
type NodeNamer interface {
	Node() string
}

// Backend is the queue engine behind the server. The server calls it from a
// connection's goroutine; implementations must be safe for concurrent use.
type Backend interface {
	// OpenConsumer attaches a link on which the server sends messages to the
	// client. Deliveries go to out, never more than the credit granted.
	OpenConsumer(ctx context.Context, req LinkRequest, out Deliverer) (Consumer, error)
	// OpenProducer attaches a link on which the client sends messages.
	OpenProducer(ctx context.Context, req LinkRequest) (Producer, error)
}

// ConnCloser is an optional Backend interface for backends that keep state
// per connection: ConnClosed is called with the connection's id
// (LinkRequest.ConnID) once all its links are closed.
type ConnCloser interface {
	ConnClosed(connID uint64)
}

// Delivery is one message the backend hands to a consumer link.
type Delivery struct {
	ID      uint64 // the backend's reference, given back in Consumer.Settle
	Message []byte // the encoded message sections; not modified by the server
	Format  uint32 // message-format, 0 for a standard AMQP message
}

// Deliverer receives a consumer's deliveries. Its methods never block and may
// be called from any goroutine.
type Deliverer interface {
	// Deliver hands one message to the link. It returns false when the link
	// is gone; the message then stays with the backend.
	Deliver(d Delivery) bool
	// DeliverBatch hands several messages to the link at once; they are
	// written out together. It returns false when the link is gone.
	DeliverBatch(ds []Delivery) bool
	// Drained tells the link that, after a drain request, everything that was
	// available has been delivered and the rest of the grant is void.
	Drained()
}

// Consumer is the backend side of a link on which the server sends.
type Consumer interface {
	// Flow tells the backend how many deliveries the link may have had in
	// all, counted from the attach: the transfers it has sent plus the
	// credit it can use. The backend delivers up to that limit, never
	// more; a lower limit than before takes credit back. With drain, the
	// backend delivers what it has now, up to the limit, and then calls
	// Drained; the rest of the credit is void.
	Flow(limit uint64, drain bool)
	// Settle reports the client's outcome for deliveries of this consumer.
	Settle(ids []uint64, o Outcome)
	// Close detaches the link: the backend takes back every delivery of this
	// consumer that was not settled, so another consumer gets it.
	Close()
}

// Producer is the backend side of a link on which the client sends.
type Producer interface {
	// Publish takes ownership of msg and calls done exactly once, from any
	// goroutine, with the outcome to report to the client.
	Publish(msg []byte, format uint32, done func(Outcome))
	// Close detaches the link.
	Close()
}

// OutcomeKind is the terminal outcome of a delivery (§3.4).
type OutcomeKind uint8

const (
	Accepted OutcomeKind = iota
	Rejected
	Released
	Modified
)

func (k OutcomeKind) String() string {
	return [...]string{"accepted", "rejected", "released", "modified"}[k]
}

// Outcome is how a delivery ended.
type Outcome struct {
	Kind              OutcomeKind
	Error             *frames.Error // with Rejected: why
	DeliveryFailed    bool          // with Modified
	UndeliverableHere bool          // with Modified
}

func outcomeOf(s frames.DeliveryState) (Outcome, bool) {
	switch s := s.(type) {
	case *frames.Accepted:
		return Outcome{Kind: Accepted}, true
	case *frames.Rejected:
		return Outcome{Kind: Rejected, Error: s.Error}, true
	case *frames.Released:
		return Outcome{Kind: Released}, true
	case *frames.Modified:
		return Outcome{Kind: Modified, DeliveryFailed: s.DeliveryFailed, UndeliverableHere: s.UndeliverableHere}, true
	}
	return Outcome{}, false
}

func (o Outcome) state() frames.DeliveryState {
	switch o.Kind {
	case Rejected:
		return &frames.Rejected{Error: o.Error}
	case Released:
		return &frames.Released{}
	case Modified:
		return &frames.Modified{DeliveryFailed: o.DeliveryFailed, UndeliverableHere: o.UndeliverableHere}
	}
	return &frames.Accepted{}
}
