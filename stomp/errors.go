package stomp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

// Every way a connection ends with an ERROR frame is built here, so the
// texts clients see live in one place (and one table test).

// protoError is a failure the client is told of in an ERROR frame, after
// which the connection closes (§ERROR: "it MUST then close the connection").
type protoError struct {
	message string         // the ERROR frame's message header
	detail  string         // its body, when there is more to say
	headers []frame.Header // further headers (version, for a version mismatch)
	receipt string         // the receipt header of the frame at fault (§ERROR: receipt-id)
	cause   error          // logged, not sent
	// clientFault counts the error as a protocol error and lingers after
	// the ERROR frame: the client may still be sending (the rest of an
	// oversized frame), and closing with unread input would reset the
	// connection before the client reads why.
	clientFault bool
}

func (e *protoError) Error() string { return e.message }
func (e *protoError) Unwrap() error { return e.cause }

// refuse is a client fault explained by message.
func refuse(format string, args ...any) *protoError {
	return &protoError{message: fmt.Sprintf(format, args...), clientFault: true}
}

const (
	msgShuttingDown  = "server shutting down"
	msgTransactions  = "transactions are not supported"
	msgNoPublishing  = "publishing over STOMP is not offered: send device messages with the HTTP API (POST /api/v1/messages) or an AMQP sender"
	msgOneSubscribe  = "this connection already has subscription %q: one subscription per connection (open more connections to consume in parallel)"
	msgOnlyTopicAll  = "destination %q is not served: subscribe to /topic/#; the consumer group comes from the user name (consumerGroupId=...)"
	msgSubscribeID   = "SUBSCRIBE needs an id header (STOMP %s; only 1.0 clients may leave it out)"
	msgUnsubscribeID = "UNSUBSCRIBE needs an id header (STOMP %s; only 1.0 clients may name the destination instead)"
	msgFirstConnect  = "expected a CONNECT or STOMP frame first, got %s"
	msgAlreadyConn   = "already connected: a second %s frame"
	msgUnknownCmd    = "unknown command %q"
	msgVersions      = "unsupported protocol versions %q: this server speaks STOMP 1.2 (and accepts 1.0 and 1.1 clients)"
	msgAuthFailed    = "authentication failed: %v"
	// The broker's limit applies to every frame's body, as to a device
	// message's payload.
	msgMessageTooLarge = "message too large: %s body of %s bytes exceeds the message size limit of %d bytes"
	versionSupported   = "1.2"
)

// frameError explains a frame the reader refused or a read that failed;
// nil means the connection just ended (EOF, reset) and there is no one to
// tell.
func frameError(err error) *protoError {
	var body *frame.BodyTooLargeError
	switch {
	case errors.As(err, &body):
		e := refuse(msgMessageTooLarge, body.Command, body.SizeText(), body.Limit)
		e.cause = err
		return e
	case errors.Is(err, frame.ErrTooLarge), errors.Is(err, frame.ErrMalformed):
		return &protoError{message: err.Error(), cause: err, clientFault: true}
	}
	return nil
}

// timeoutError explains a read deadline that passed: which one is cause.
func timeoutError(cause deadlineCause, handshake time.Duration, connected bool, idle time.Duration) *protoError {
	switch {
	case cause == causeIdle:
		return refuse("no heart-beat or frame from the client for %s (heart-beats were agreed every %s)", idle, idle/2)
	case !connected:
		return refuse("no CONNECT frame within %s", handshake)
	}
	return refuse("no SUBSCRIBE to /topic/# within %s: connections that consume nothing are closed", handshake)
}

// authError explains a refused sign-in.
func authError(err error) *protoError {
	e := refuse(msgAuthFailed, err)
	e.cause = err
	return e
}

// brokerErrors explains the broker's sentinels, checked in order with
// errors.Is: the message header of the ERROR frame, from the connection's
// consumer group and the broker's error (whose text carries the detail, such
// as a limit), and whether it is the client's fault.
var brokerErrors = []struct {
	err         error
	clientFault bool
	message     func(group string, err error) string
}{
	// As AMQP's amqp:resource-limit-exceeded; the error names the limit.
	{broker.ErrTooManyMembers, true, func(g string, err error) string {
		return fmt.Sprintf("resource limit exceeded in consumer group %s: %v", g, err)
	}},
	{broker.ErrGroupNotFound, true, func(g string, _ error) string {
		return fmt.Sprintf("consumer group %q does not exist (the consumerGroupId of the user name)", g)
	}},
	{broker.ErrInvalidName, true, func(g string, err error) string {
		return fmt.Sprintf("%v (check the clientId and consumerGroupId of the user name; consumer group %s)", err, g)
	}},
	// The broker's text says the size and the limit.
	{broker.ErrMessageTooLarge, true, func(_ string, err error) string { return err.Error() }},
	{broker.ErrUnavailable, false, func(g string, err error) string {
		return fmt.Sprintf("consumer group %s is unavailable, try again later: %v", g, err)
	}},
	{broker.ErrClosed, false, func(string, error) string { return msgShuttingDown }},
	{context.Canceled, false, func(string, error) string { return msgShuttingDown }},
}

// brokerError explains a broker error met when a connection of group tried
// to do what (a verb: "join"); an error the table does not know is the
// server's fault.
func brokerError(what, group string, err error) *protoError {
	for _, m := range brokerErrors {
		if errors.Is(err, m.err) {
			return &protoError{message: m.message(group, err), clientFault: m.clientFault, cause: err}
		}
	}
	return &protoError{message: fmt.Sprintf("cannot %s consumer group %s: %v", what, group, err), cause: err}
}

// isTimeout reports a read or write deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errorFrame encodes e as an ERROR frame, for a STOMP 1.0 peer when v10.
func errorFrame(e *protoError, v10 bool) []byte {
	f := frame.Frame{Command: frame.Error}
	f.Add(frame.HdrMessage, e.message)
	f.Headers = append(f.Headers, e.headers...)
	if e.receipt != "" {
		f.Add(frame.HdrReceiptID, e.receipt)
	}
	// The body repeats the message: some clients show only the body.
	body := e.message
	if e.detail != "" {
		body += "\n\n" + e.detail
	}
	f.Body = []byte(body)
	f.Add(frame.HdrContentType, "text/plain")
	f.Add(frame.HdrContentLength, strconv.Itoa(len(f.Body)))
	return appendFrame(&f, v10)
}
