package amqp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// errHandshake wraps every failure before the AMQP layer starts; the socket
// is closed without a close frame (there is no connection to close yet).
var errHandshake = errors.New("amqp: handshake failed")

// handshake runs the protocol header exchange and SASL (§2.2, §5.3) and
// leaves the connection ready for the open frame.
func (c *conn) handshake(br io.Reader) error {
	hdr, err := readProtocolHeader(br)
	if err != nil {
		return err
	}
	switch hdr {
	case frames.ProtocolSASL:
		if err := c.write(frames.ProtocolSASL[:]); err != nil {
			return err
		}
		if err := c.sasl(br); err != nil {
			return err
		}
		hdr, err = readProtocolHeader(br)
		if err != nil {
			return err
		}
		if hdr != frames.ProtocolAMQP {
			c.write(frames.ProtocolAMQP[:])
			return fmt.Errorf("%w: protocol header %q after SASL", errHandshake, hdr[:])
		}
		return c.write(frames.ProtocolAMQP[:])
	case frames.ProtocolAMQP:
		if c.srv.cfg.RequireSASL {
			c.write(frames.ProtocolSASL[:])
			return fmt.Errorf("%w: client skipped SASL, which is required", errHandshake)
		}
		p, err := c.srv.cfg.Authenticator.Authenticate(context.Background(), Credentials{Remote: c.nc.RemoteAddr()})
		if err != nil {
			c.write(frames.ProtocolSASL[:]) // tell the client SASL is what we want
			return fmt.Errorf("%w: anonymous connection refused: %w", errHandshake, err)
		}
		c.principal = p
		return c.write(frames.ProtocolAMQP[:])
	}
	// §2.2: answer an unsupported header with the one we support, then close.
	if c.srv.cfg.RequireSASL {
		c.write(frames.ProtocolSASL[:])
	} else {
		c.write(frames.ProtocolAMQP[:])
	}
	return fmt.Errorf("%w: unsupported protocol header %q", errHandshake, hdr[:])
}

func readProtocolHeader(br io.Reader) ([8]byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return h, fmt.Errorf("%w: reading protocol header: %w", errHandshake, err)
	}
	return h, nil
}

// sasl offers the configured mechanisms, reads sasl-init and sends the outcome.
func (c *conn) sasl(br io.Reader) error {
	mechs := make([]encoding.Symbol, len(c.srv.cfg.Mechanisms))
	for i, m := range c.srv.cfg.Mechanisms {
		mechs[i] = encoding.Symbol(m)
	}
	if err := c.write(frames.AppendFrame(nil, frames.TypeSASL, 0, &frames.SASLMechanisms{Mechanisms: mechs}, nil)); err != nil {
		return err
	}
	body, err := readSASLFrame(br, c.srv.cfg.MaxSASLFrameSize)
	if err != nil {
		return err
	}
	init, ok := body.(*frames.SASLInit)
	if !ok {
		return fmt.Errorf("%w: expected sasl-init, got %v", errHandshake, body)
	}
	creds, err := parseSASLInit(init, mechs)
	c.saslMech, c.saslUser = string(init.Mechanism), creds.Username
	if err != nil {
		c.write(frames.AppendFrame(nil, frames.TypeSASL, 0, &frames.SASLOutcome{Code: frames.SASLAuth}, nil))
		return err
	}
	creds.Remote = c.nc.RemoteAddr()
	p, err := c.srv.cfg.Authenticator.Authenticate(context.Background(), creds)
	if err != nil {
		c.write(frames.AppendFrame(nil, frames.TypeSASL, 0, &frames.SASLOutcome{Code: frames.SASLAuth}, nil))
		return fmt.Errorf("%w: %s login as %q refused: %w", errHandshake, creds.Mechanism, creds.Username, err)
	}
	c.principal = p
	return c.write(frames.AppendFrame(nil, frames.TypeSASL, 0, &frames.SASLOutcome{Code: frames.SASLOK}, nil))
}

// readSASLFrame reads one SASL frame, accepting frames up to limit bytes:
// tokens and long vendor user names exceed the spec's 512.
func readSASLFrame(br io.Reader, limit uint32) (frames.Body, error) {
	var hb [frames.HeaderSize]byte
	if _, err := io.ReadFull(br, hb[:]); err != nil {
		return nil, fmt.Errorf("%w: reading SASL frame: %w", errHandshake, err)
	}
	h, err := frames.ParseHeader(hb[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errHandshake, err)
	}
	if h.Type != frames.TypeSASL {
		return nil, fmt.Errorf("%w: frame type %d during SASL", errHandshake, h.Type)
	}
	if h.Size > limit {
		return nil, fmt.Errorf("%w: SASL frame of %d bytes exceeds %d", errHandshake, h.Size, limit)
	}
	buf := make([]byte, h.Size-frames.HeaderSize)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("%w: reading SASL frame: %w", errHandshake, err)
	}
	body, _, err := frames.ParseBody(h.Type, buf[int(h.DataOffset)*4-frames.HeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errHandshake, err)
	}
	if body == nil {
		return nil, fmt.Errorf("%w: empty frame during SASL", errHandshake)
	}
	return body, nil
}

// parseSASLInit extracts credentials from a PLAIN or ANONYMOUS sasl-init.
func parseSASLInit(init *frames.SASLInit, offered []encoding.Symbol) (Credentials, error) {
	mech := strings.ToUpper(string(init.Mechanism))
	if !slices.Contains(offered, encoding.Symbol(mech)) {
		return Credentials{}, fmt.Errorf("%w: mechanism %q not offered", errHandshake, init.Mechanism)
	}
	switch mech {
	case "ANONYMOUS":
		return Credentials{Mechanism: mech}, nil
	case "PLAIN":
		// authzid NUL authcid NUL passwd (RFC 4616)
		parts := bytes.SplitN(init.InitialResponse, []byte{0}, 3)
		if len(parts) != 3 {
			return Credentials{}, fmt.Errorf("%w: malformed PLAIN response: %d NUL-separated parts, want authzid NUL authcid NUL password (RFC 4616)", errHandshake, len(parts))
		}
		return Credentials{Mechanism: mech, Username: string(parts[1]), Password: string(parts[2])}, nil
	}
	return Credentials{}, fmt.Errorf("%w: mechanism %q not supported", errHandshake, mech)
}
