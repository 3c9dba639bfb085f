package vendorauth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Passwords computed with openssl, not with this package:
//
//	printf 'authId=LTAI4Fexample&timestamp=1573489088171' | openssl dgst -sha1 -hmac 'sEcReT/with+chars' -binary | base64
var signVectors = []struct{ method, password string }{
	{"hmacmd5", "+Y5sUm59H3+dbAYzNLatWg=="},
	{"hmacsha1", "t+6hOLEpuMRAhJ1qUGGPW17WetQ="},
	{"Hmacsha1", "t+6hOLEpuMRAhJ1qUGGPW17WetQ="}, // the Go sample's spelling
	{"hmacsha256", "cMFU6d1HlP3scgJvcL0P8VkKzKMH4QEKqA+yqHB1DVs="},
}

const (
	testAK     = "LTAI4Fexample"
	testSecret = "sEcReT/with+chars"
)

func verifier() *Verifier { return &Verifier{Secret: SingleKey(testAK, testSecret)} }

func TestVerifyVectors(t *testing.T) {
	for _, v := range signVectors {
		user := "client-1|authMode=aksign,signMethod=" + v.method + ",timestamp=1573489088171,authId=" + testAK + ",iotInstanceId=,consumerGroupId=DEFAULT_GROUP|"
		id, err := verifier().Verify(user, v.password)
		if err != nil {
			t.Fatalf("%s: %v", v.method, err)
		}
		if id.ClientID != "client-1" || id.GroupID != "DEFAULT_GROUP" || id.SignMethod != strings.ToLower(v.method) {
			t.Fatalf("%s: identity %+v", v.method, id)
		}
	}
}

func TestVerifySTSToken(t *testing.T) {
	v := &Verifier{Secret: SingleKey("STS.AK", "s3")}
	user := "c|authMode=ststoken,securityToken=tok123,signMethod=hmacsha1,consumerGroupId=G1,authId=STS.AK,timestamp=42|"
	if _, err := v.Verify(user, "xaEjqTl0zis51wFAE+9LIYJarLQ="); err != nil {
		t.Fatal(err)
	}
}

// The key orders of the doc and of the Node/Python/Java and Go samples.
func TestKeyOrdersOfTheSamples(t *testing.T) {
	for _, user := range []string{
		"c|iotInstanceId=,authMode=aksign,signMethod=hmacsha1,consumerGroupId=G1,authId=" + testAK + ",timestamp=1573489088171|",
		"c|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=" + testAK + ",iotInstanceId=iot-06z00,consumerGroupId=G1|",
		"c|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G1,authId=" + testAK + ",timestamp=1573489088171|",
	} {
		id, err := verifier().Verify(user, signVectors[1].password)
		if err != nil || id.GroupID != "G1" {
			t.Fatalf("%s: %v %+v", user, err, id)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	good := "c|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G,authId=" + testAK + ",timestamp=1573489088171|"
	long := strings.Repeat("x", MaxClientID+1)
	cases := []struct {
		name, user, pass string
		want             error
	}{
		{"plain user", "amqpemu-dev-key", "x", ErrNotSigned},
		{"no trailing bar", strings.TrimSuffix(good, "|"), "x", ErrNotSigned},
		{"empty client id", good[1:], "x", ErrMalformed},
		{"client id too long", long + good[1:], "x", ErrMalformed},
		// Validly signed (the signature covers authId and timestamp only), but not UTF-8.
		{"client id not UTF-8", "c\xff\xfe" + good[1:], signVectors[1].password, ErrMalformed},
		{"client id cut UTF-8", "c\xe4\xb8" + good[1:], signVectors[1].password, ErrMalformed},
		{"group id not UTF-8", strings.Replace(good, "consumerGroupId=G", "consumerGroupId=G\xc0", 1), signVectors[1].password, ErrMalformed},
		{"not key=value", "c|authMode|", "x", ErrMalformed},
		{"duplicate key", "c|authMode=aksign,authMode=aksign|", "x", ErrMalformed},
		{"missing group", "c|authMode=aksign,signMethod=hmacsha1,authId=" + testAK + ",timestamp=1|", "x", ErrMalformed},
		{"missing timestamp", "c|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G,authId=" + testAK + "|", "x", ErrMalformed},
		{"ststoken without token", strings.Replace(good, "aksign", "ststoken", 1), "x", ErrMalformed},
		{"unknown mode", strings.Replace(good, "aksign", "appkey", 1), "x", ErrUnsupportedMode},
		{"unknown method", strings.Replace(good, "hmacsha1", "hmacsha512", 1), "x", ErrUnsupportedMethod},
		{"unknown key", strings.Replace(good, testAK, "OTHER", 1), signVectors[1].password, ErrUnknownAccessKey},
		{"wrong password", good, "t+6hOLEpuMRAhJ1qUGGPW17WetQ", ErrBadSignature},
		{"signature of another method", good, signVectors[0].password, ErrBadSignature},
		{"signed over another timestamp", strings.Replace(good, "1573489088171", "1573489088172", 1), signVectors[1].password, ErrBadSignature},
	}
	for _, c := range cases {
		_, err := verifier().Verify(c.user, c.pass)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNoTimestampWindowByDefault(t *testing.T) {
	id := &Identity{AuthMode: "aksign", SignMethod: "hmacsha1", AccessKeyID: testAK, Timestamp: "7"}
	pass, _ := Sign(id, testSecret)
	user := "go|authMode=aksign,signMethod=Hmacsha1,consumerGroupId=G,authId=" + testAK + ",iotInstanceId=,timestamp=7|"
	if _, err := verifier().Verify(user, pass); err != nil {
		t.Fatal(err)
	}
}

func TestTimestampWindowWhenAsked(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	v := &Verifier{Secret: SingleKey(testAK, testSecret), MaxSkew: time.Minute, Now: func() time.Time { return now }}
	for ts, ok := range map[string]bool{"1700000000000": true, "1700000059000": true, "1699999000000": false, "7": false, "soon": false} {
		id := &Identity{AuthMode: "aksign", SignMethod: "hmacsha256", AccessKeyID: testAK, Timestamp: ts}
		pass, _ := Sign(id, testSecret)
		user := "c|authMode=aksign,signMethod=hmacsha256,consumerGroupId=G,authId=" + testAK + ",timestamp=" + ts + "|"
		_, err := v.Verify(user, pass)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrTimestampOutOfSkew)) {
			t.Errorf("timestamp %s: %v", ts, err)
		}
	}
}

func TestBase64Flag(t *testing.T) {
	id, err := Parse("py|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G,authId=a,timestamp=1,encode=base64|")
	if err != nil || !id.Base64 {
		t.Fatalf("%v %+v", err, id)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("c|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G,authId=a,timestamp=1|")
	f.Add("|||")
	f.Add("a|=,=|")
	f.Fuzz(func(t *testing.T, user string) {
		id, err := Parse(user)
		if err == nil && (id.ClientID == "" || id.GroupID == "" || strings.Contains(id.ClientID, "|")) {
			t.Fatalf("accepted %q as %+v", user, id)
		}
	})
}
