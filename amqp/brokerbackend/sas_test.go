package brokerbackend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/internal/interop"
)

var testKeys = []SASKey{{Name: "amqpemu-dev-key", Key: "amqpemu-dev-secret"}, {Name: "other", Key: "other-secret"}}

// sign makes a token the way the Service Bus documentation describes it
// (the SDK-made ones are checked in TestVerifySASFromSDK).
func sign(keyName, key, resource string, expiry int64) string {
	sr := url.QueryEscape(resource)
	se := strconv.FormatInt(expiry, 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	sig := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return "SharedAccessSignature sr=" + sr + "&sig=" + sig + "&se=" + se + "&skn=" + keyName
}

func TestVerifySAS(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	later := now.Add(time.Hour).Unix()
	const aud = "amqp://127.0.0.1:5672/orders"
	for _, tc := range []struct {
		name  string
		keys  []SASKey
		token string
		want  error
	}{
		{"valid", testKeys, sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later), nil},
		{"second key", testKeys, sign("other", "other-secret", aud, later), nil},
		{"fields in another order", testKeys, reorder(sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later)), nil},
		{"expired", testKeys, sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, now.Add(-time.Second).Unix()), errSASExpired},
		{"wrong secret", testKeys, sign("amqpemu-dev-key", "guess", aud, later), errSASSignature},
		{"other key's secret", testKeys, sign("amqpemu-dev-key", "other-secret", aud, later), errSASSignature},
		{"unknown key name", testKeys, sign("nobody", "amqpemu-dev-secret", aud, later), errSASUnknownKey},
		{"expiry changed after signing", testKeys, strings.Replace(sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later), "se="+strconv.FormatInt(later, 10), "se="+strconv.FormatInt(later+1, 10), 1), errSASSignature},
		{"resource changed after signing", testKeys, strings.Replace(sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later), "orders", "orderz", 1), errSASSignature},
		{"no prefix", testKeys, strings.TrimPrefix(sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later), "SharedAccessSignature "), errSASMalformed},
		{"no se", testKeys, "SharedAccessSignature sr=x&sig=eA%3D%3D&skn=amqpemu-dev-key", errSASMalformed},
		{"se not a number", testKeys, "SharedAccessSignature sr=x&sig=eA%3D%3D&se=soon&skn=amqpemu-dev-key", errSASMalformed},
		{"sig not base64", testKeys, "SharedAccessSignature sr=x&sig=!!&se=1&skn=amqpemu-dev-key", errSASMalformed},
		{"empty", testKeys, "", errSASMalformed},
		{"no key configured", nil, sign("amqpemu-dev-key", "amqpemu-dev-secret", aud, later), errSASNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifySAS(tc.keys, tc.token, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("verifySAS = %v, want %v", err, tc.want)
			}
		})
	}
}

// reorder moves skn first: the fields are named, their order is free.
func reorder(token string) string {
	rest := strings.TrimPrefix(token, "SharedAccessSignature ")
	i := strings.Index(rest, "&skn=")
	return "SharedAccessSignature " + rest[i+1:] + "&" + rest[:i]
}

// TestVerifySASFromSDK checks the verifier against tokens made by the SDK's
// own signer (@azure/core-amqp's createSasTokenProvider, which
// @azure/service-bus and @azure/event-hubs use); the Go SDK's signer is
// internal and is exercised end to end in azure_test.go.
func TestVerifySASFromSDK(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/azure")
	if err != nil {
		t.Fatal(err)
	}
	_, err = os.Stat(filepath.Join(dir, "node_modules", "@azure", "core-amqp", "package.json"))
	interop.Require(t, "@azure/core-amqp", "bash testdata/azure/install.sh", err == nil)
	for _, aud := range []string{"sb://127.0.0.1:5672/orders", "amqp://localhost:5672/Group With Spaces/é"} {
		out, err := exec.Command("node", filepath.Join(dir, "sastoken.js"), "amqpemu-dev-key", "amqpemu-dev-secret", aud).CombinedOutput()
		if err != nil {
			t.Fatalf("sastoken.js: %v\n%s", err, out)
		}
		var res struct {
			Token   string
			Expires int64 `json:"expiresOnTimestamp"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("sastoken.js output %q: %v", out, err)
		}
		issued := time.Unix(res.Expires, 0).Add(-time.Hour) // the SDK's tokens last an hour
		if err := verifySAS(testKeys, res.Token, issued); err != nil {
			t.Fatalf("SDK token %q for %q refused: %v", res.Token, aud, err)
		}
		if err := verifySAS([]SASKey{{Name: "amqpemu-dev-key", Key: "another-secret"}}, res.Token, issued); !errors.Is(err, errSASSignature) {
			t.Fatalf("SDK token checked against another secret: %v, want %v", err, errSASSignature)
		}
		if err := verifySAS(testKeys, res.Token, time.Unix(res.Expires+1, 0)); !errors.Is(err, errSASExpired) {
			t.Fatalf("SDK token after its se: %v, want %v", err, errSASExpired)
		}
	}
}
