package bench

import "testing"

// smokeN keeps `go test ./bench` quick: it checks that each benchmark's
// set-up and drain work, on a few messages, without timing anything.
const smokeN = 1000

func TestJetStreamDrainSmoke(t *testing.T) {
	for _, tc := range []struct {
		name         string
		brokerShaped bool
		drain        drainFunc
	}{
		{"fetch-8conns", false, drainFetchN},
		{"fanout-1conn", false, drainFanout},
		{"fanout-1conn-brokermsg", true, drainFanout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setupJetStream(t, smokeN, tc.brokerShaped)
			if err := tc.drain(t, e.s, smokeN, tc.brokerShaped); err != nil {
				t.Fatal(err)
			}
			checkDrained(t, e.str, smokeN)
		})
	}
}

func TestAmqpemuDrainSmoke(t *testing.T) {
	e := setupAmqpemu(t, smokeN)
	if err := e.drain(smokeN); err != nil {
		t.Fatal(err)
	}
	e.checkDrained(t)
}

// TestRabbitMQDrainSmoke is skipped unless AMQPEMU_RABBITMQ_URL is set.
func TestRabbitMQDrainSmoke(t *testing.T) {
	e := setupRabbit(t, rabbitURL(t), smokeN)
	if err := e.drain(smokeN); err != nil {
		t.Fatal(err)
	}
	e.checkDrained(t)
}
