package brokerbackend

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// FuzzSplitBatch: a batch envelope from a client never panics the parser,
// and what it returns are messages that parse.
func FuzzSplitBatch(f *testing.F) {
	one := frames.AppendData(nil, []byte("payload"))
	f.Add(frames.AppendData(frames.AppendData(nil, one), one))
	f.Add(one)
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x53, 0x75, 0xa0, 0xff})
	f.Fuzz(func(t *testing.T, msg []byte) {
		msgs, err := splitBatch(msg)
		if err != nil {
			return
		}
		for i, m := range msgs {
			if _, err := frames.ParseMessage(m); err != nil {
				t.Fatalf("batched message %d returned but does not parse: %v", i, err)
			}
		}
	})
}

// FuzzVerifySAS: any token gets an answer, never a panic, and only a token
// signed with the key is accepted.
func FuzzVerifySAS(f *testing.F) {
	keys := []SASKey{{Name: "ak", Key: "sk"}}
	now := time.Unix(1700000000, 0)
	f.Add(sign("ak", "sk", "sb://host/q", now.Add(time.Hour).Unix()))
	f.Add("SharedAccessSignature sr=a&sig=%%%&se=x&skn=ak")
	f.Add("SharedAccessSignature ")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if verifySAS(keys, token, now) != nil {
			return
		}
		p, err := parseSAS(token)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", token, err)
		}
		mac := hmac.New(sha256.New, []byte("sk"))
		mac.Write([]byte(p.resource + "\n" + p.se))
		if p.keyName != "ak" || !hmac.Equal(mac.Sum(nil), p.sig) || p.expiry <= now.Unix() {
			t.Fatalf("accepted %q, not signed with the key or expired", token)
		}
	})
}
