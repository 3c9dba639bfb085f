package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
)

// Devices finds registered devices; devices.ErrDeviceNotFound when unknown.
type Devices interface {
	Device(ctx context.Context, productKey, deviceName string) (devices.Device, error)
}

// Publisher stores device messages for the consumer groups (*broker.Broker).
type Publisher interface {
	Publish(ctx context.Context, msgs ...broker.DeviceMessage) ([]string, error)
}

// Recorder records cloud-to-device messages (*downlink.Recorder), so the
// REST API can tell them back.
type Recorder interface {
	Send(ctx context.Context, productKey, deviceName, topic string, payload []byte, qos int) (string, error)
}

// Config configures a Server.
type Config struct {
	Broker   Publisher
	Devices  Devices  // nil: every CONNECT is refused ("no device registry")
	Recorder Recorder // nil: Send does not record, and answers an empty id
	Logger   zerolog.Logger
	// AutoRegister, when set, registers a device the registry does not
	// know at its first sign-in, and signs in auto-registered devices
	// without checking their password (for quick starts on loopback).
	AutoRegister func(ctx context.Context, productKey, deviceName string) (devices.Device, error)
}

// Keep-alive bounds of the platform, in seconds.
const (
	MinKeepAlive = 30
	MaxKeepAlive = 1200
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("mqtt: server closed")

// Server is the MQTT device ingress.
type Server struct {
	cfg  Config
	log  zerolog.Logger
	m    *mochi.Server
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	sessions map[*mochi.Client]*session // signed-in connections
	current  map[string]*session        // by device key: the newest connection
	serving  bool
}

// session is one signed-in device connection.
type session struct {
	key      string // productKey/deviceName: the mochi client id, so a second login takes over
	dev      devices.Device
	clientIP string
	last     time.Time // last PUBLISH or PINGREQ; guarded by Server.mu
	kicked   bool      // guarded by Server.mu
}

// New makes a Server; Serve starts it.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, done: make(chan struct{}),
		sessions: map[*mochi.Client]*session{}, current: map[string]*session{}}
	s.m = mochi.New(&mochi.Options{
		InlineClient: true,
		Logger:       slog.New(slog.DiscardHandler), // we log refusals and sessions ourselves
	})
	s.m.Options.Capabilities.MaximumMessageExpiryInterval = 0
	_ = s.m.AddHook(&hook{s: s}, nil) // cannot fail: no config
	return s
}

// Serve accepts device connections on every listener given (--mqtt's
// plain-and-TLS port, --mqtts) until Shutdown; it returns ErrServerClosed
// then. It is called once.
func (s *Server) Serve(lns ...net.Listener) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("mqtt: Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()
	for _, ln := range lns {
		if err := s.m.AddListener(listeners.NewNet("mqtt "+ln.Addr().String(), ln)); err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
	}
	if err := s.m.Serve(); err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	<-s.done
	return ErrServerClosed
}

// Shutdown closes the listener and every connection (each device goes
// offline); idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		c := make(chan error, 1)
		go func() { c <- s.m.Close() }()
		select {
		case err = <-c:
		case <-ctx.Done():
			err = ctx.Err()
		}
		close(s.done)
	})
	return err
}

// Send publishes a cloud-to-device message to the device, when connected
// and subscribed, and records it; the signature of openapi/iot's Downlink.
func (s *Server) Send(ctx context.Context, productKey, deviceName, topic string, payload []byte, qos int) (string, error) {
	if qos != 0 && qos != 1 {
		return "", fmt.Errorf("qos %d: want 0 or 1", qos)
	}
	id := ""
	if s.cfg.Recorder != nil {
		var err error
		if id, err = s.cfg.Recorder.Send(ctx, productKey, deviceName, topic, payload, qos); err != nil {
			return "", err
		}
	}
	if !s.online(productKey, deviceName) {
		s.log.Debug().Str("device", deviceKey(productKey, deviceName)).Str("topic", topic).Msg("device offline: message recorded only")
		return id, nil
	}
	if err := s.m.Publish(topic, payload, false, byte(qos)); err != nil {
		return "", fmt.Errorf("mqtt: %w", err)
	}
	return id, nil
}

func (s *Server) online(pk, dn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.current[deviceKey(pk, dn)]
	return ok
}

func deviceKey(pk, dn string) string { return pk + "/" + dn }
