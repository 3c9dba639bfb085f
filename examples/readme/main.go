// Command readme is the README's Go consumer: it takes the messages waiting
// in DEFAULT_GROUP, prints and accepts each, and stops when none has come
// for three seconds.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/Azure/go-amqp"
)

func main() {
	url := "amqp://127.0.0.1:5672"
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := consume(ctx, url); err != nil {
		log.Fatal(err)
	}
}

// consume receives from DEFAULT_GROUP, printing and accepting each message.
func consume(ctx context.Context, url string) error {
	conn, err := amqp.Dial(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("connecting to %s (is amqpemu running?): %w", url, err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		return fmt.Errorf("opening a session: %w", err)
	}
	// The source names the consumer group to join.
	rcv, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", &amqp.ReceiverOptions{Credit: 20})
	if err != nil {
		return fmt.Errorf("joining DEFAULT_GROUP: %w", err)
	}
	for {
		wait, cancel := context.WithTimeout(ctx, 3*time.Second)
		msg, err := rcv.Receive(wait, nil)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil // nothing more for now
		}
		if err != nil {
			return fmt.Errorf("receiving: %w", err)
		}
		fmt.Println(msg.ApplicationProperties["topic"], msg.ApplicationProperties["messageId"], string(msg.GetData()))
		// Only now is the message acknowledged; what is left unsettled is redelivered.
		if err := rcv.AcceptMessage(ctx, msg); err != nil {
			return fmt.Errorf("accepting: %w", err)
		}
	}
}
