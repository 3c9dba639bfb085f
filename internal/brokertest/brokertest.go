// Package brokertest opens a real broker, on its embedded JetStream, for
// the tests of the packages built on it.
package brokertest

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// Open opens a broker on dir, logging warnings to t, and closes it when
// the test ends.
func Open(t testing.TB, dir string) *broker.Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: dir, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}
