// Command go-packag follows the platform's Go SDK sample for AMQP consumers
// (pack.ag/amqp), changed only to read its settings from the environment and
// to print each message as one JSON line:
//
//	IOT_HOST (localhost), IOT_PORT (5671), IOT_ACCESS_KEY, IOT_ACCESS_SECRET,
//	IOT_CONSUMER_GROUP_ID (DEFAULT_GROUP), IOT_CLIENT_ID, IOT_INSTANCE_ID ("")
//	EXPECT=N: exit 0 once N distinct messages were received and accepted
//
// Trust the emulator's CA with SSL_CERT_FILE=amqpemu-data/tls/ca.pem (Go's
// crypto/x509 reads it on Linux; the code is unchanged).
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"pack.ag/amqp"
)

// Connection settings; the sample has them as constants.
var (
	accessKey       = os.Getenv("IOT_ACCESS_KEY")
	accessSecret    = os.Getenv("IOT_ACCESS_SECRET")
	consumerGroupId = getenv("IOT_CONSUMER_GROUP_ID", "DEFAULT_GROUP")
	clientId        = getenv("IOT_CLIENT_ID", "go-packag-sample")
	iotInstanceId   = os.Getenv("IOT_INSTANCE_ID")
	host            = getenv("IOT_HOST", "localhost")
	port            = getenv("IOT_PORT", "5671")
)

func main() {
	address := "amqps://" + host + ":" + port
	timestamp := time.Now().Nanosecond() / 1000000
	// The user name is the client id followed by the auth parameters between '|'.
	userName := fmt.Sprintf("%s|authMode=aksign,signMethod=Hmacsha1,consumerGroupId=%s,authId=%s,iotInstanceId=%s,timestamp=%d|",
		clientId, consumerGroupId, accessKey, iotInstanceId, timestamp)
	stringToSign := fmt.Sprintf("authId=%s&timestamp=%d", accessKey, timestamp)
	hmacKey := hmac.New(sha1.New, []byte(accessSecret))
	hmacKey.Write([]byte(stringToSign))
	// The password is the Base64 HMAC-SHA1 of authId and timestamp, keyed with the secret.
	password := base64.StdEncoding.EncodeToString(hmacKey.Sum(nil))

	amqpManager := &AmqpManager{
		address:  address,
		userName: userName,
		password: password,
	}

	ctx := context.Background()
	// Not in the sample: EXPECT=N cancels ctx after N messages, for tests.
	ctx, expect.cancel = context.WithCancel(ctx)
	expect.n, _ = strconv.Atoi(os.Getenv("EXPECT"))
	amqpManager.startReceiveMessage(ctx)
}

// processMessage runs on a goroutine of its own for each message.
func (am *AmqpManager) processMessage(message *amqp.Message) {
	printMessage(message)
}

type AmqpManager struct {
	address  string
	userName string
	password string
	client   *amqp.Client
	session  *amqp.Session
	receiver *amqp.Receiver
}

func (am *AmqpManager) startReceiveMessage(ctx context.Context) {

	// The sample discards this cancel func; go vet rejects that.
	childCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := am.generateReceiverWithRetry(childCtx)
	if nil != err {
		return
	}
	defer func() {
		// The sample closes with childCtx, already cancelled when we get
		// here; give the detach and end a moment instead.
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		am.receiver.Close(closeCtx)
		am.session.Close(closeCtx)
		am.client.Close()
	}()

	for {
		message, err := am.receiver.Receive(ctx)

		if nil == err {
			go am.processMessage(message)
			message.Accept()
			expect.accepted(message)
		} else {
			fmt.Fprintln(os.Stderr, "amqp receive data error:", err)

			// A cancelled context means we are done; any other error means the
			// link is broken and we reconnect.
			select {
			case <-childCtx.Done():
				expect.wait() // the last JSON lines are printed
				return
			default:
			}

			err := am.generateReceiverWithRetry(childCtx)
			if nil != err {
				return
			}
		}
	}
}

func (am *AmqpManager) generateReceiverWithRetry(ctx context.Context) error {
	// The delay between attempts starts at 10ms and doubles until it passes 20s.
	duration := 10 * time.Millisecond
	maxDuration := 20000 * time.Millisecond
	times := 1

	for {
		select {
		case <-ctx.Done():
			return amqp.ErrConnClosed
		default:
		}

		err := am.generateReceiver()
		if nil != err {
			fmt.Fprintln(os.Stderr, "amqp connect error:", err)
			time.Sleep(duration)
			if duration < maxDuration {
				duration *= 2
			}
			fmt.Fprintln(os.Stderr, "amqp connect retry,times:", times, ",duration:", duration)
			times++
		} else {
			fmt.Fprintln(os.Stderr, "amqp connect init success")
			return nil
		}
	}
}

// generateReceiver first tries a new link on the current session. The state
// of the connection and session cannot be queried, so if that fails it dials
// a new connection.
func (am *AmqpManager) generateReceiver() error {

	if am.session != nil {
		receiver, err := am.session.NewReceiver(
			amqp.LinkSourceAddress("/queue-name"),
			amqp.LinkCredit(20),
		)
		if err == nil {
			am.receiver = receiver
			return nil
		}
	}

	if am.client != nil {
		am.client.Close()
	}

	client, err := amqp.Dial(am.address, amqp.ConnSASLPlain(am.userName, am.password))
	if err != nil {
		return err
	}
	am.client = client

	session, err := client.NewSession()
	if err != nil {
		return err
	}
	am.session = session

	receiver, err := am.session.NewReceiver(
		amqp.LinkSourceAddress("/queue-name"),
		amqp.LinkCredit(20),
	)
	if err != nil {
		return err
	}
	am.receiver = receiver

	return nil
}

// Below: not in the sample. Configuration, the JSON output line and EXPECT.

func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// out serialises the JSON lines: processMessage runs on its own goroutine.
var out struct {
	sync.Mutex
	printed int // messages printed so far
	cond    *sync.Cond
}

// printMessage writes one JSON line per received message to stdout.
func printMessage(message *amqp.Message) {
	line, err := json.Marshal(struct {
		Topic         any    `json:"topic"`
		MessageID     any    `json:"messageId"`
		GenerateTime  any    `json:"generateTime"`
		PayloadBase64 string `json:"payloadBase64"`
	}{
		Topic:         message.ApplicationProperties["topic"],
		MessageID:     message.ApplicationProperties["messageId"],
		GenerateTime:  message.ApplicationProperties["generateTime"],
		PayloadBase64: base64.StdEncoding.EncodeToString(message.GetData()),
	})
	out.Lock()
	defer out.Unlock()
	if err == nil {
		_, err = os.Stdout.Write(append(line, '\n'))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "output:", err)
		os.Exit(1)
	}
	out.printed++
	out.cond.Broadcast()
}

// expect ends the sample once EXPECT distinct messages were accepted.
var expect expectation

type expectation struct {
	n      int // 0: run forever
	total  int // messages accepted, redeliveries included
	seen   map[any]bool
	cancel context.CancelFunc
}

func init() { out.cond = sync.NewCond(&out.Mutex) }

// accepted runs on the receive loop after message.Accept(): once EXPECT
// distinct messageIds were accepted it cancels the receive context.
func (e *expectation) accepted(message *amqp.Message) {
	e.total++
	if e.seen == nil {
		e.seen = map[any]bool{}
	}
	e.seen[message.ApplicationProperties["messageId"]] = true
	if e.n > 0 && len(e.seen) >= e.n {
		e.cancel()
	}
}

// wait returns once every accepted message has been printed.
func (e *expectation) wait() {
	out.Lock()
	defer out.Unlock()
	for out.printed < e.total {
		out.cond.Wait()
	}
}
