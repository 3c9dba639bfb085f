package devicesign

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// The official vector (operator-devices-cluster.md §3.1): clientId=12345,
// deviceName=device, productKey=pk, timestamp=789, secret=secret.
func TestSignOfficialVector(t *testing.T) {
	content := Content("12345", "device", "pk", "789")
	if content != "clientId12345deviceNamedeviceproductKeypktimestamp789" {
		t.Fatalf("content %q", content)
	}
	for _, tc := range []struct{ method, want string }{
		{"hmacsha1", "fafd82a3d602b37fb0fa8b7892f24a477f851a14"},
		{"hmacsha256", "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57"},
		{"sha256", "6074a46a91b1ebb2cc4ea42790ad0e80202c9843859fc292e57c4eb19fad9e57"},
		{"hmacmd5", "14b198324fe55e1d3c88f2e705e201ee"},
		{"HmacSHA1", "fafd82a3d602b37fb0fa8b7892f24a477f851a14"},
	} {
		got, err := Sign(tc.method, "secret", content)
		if err != nil || got != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.method, got, err, tc.want)
		}
	}
	if _, err := Sign("rsa", "secret", content); !errors.Is(err, ErrUnsupportedMethod) {
		t.Errorf("rsa: %v", err)
	}
}

func TestVerify(t *testing.T) {
	sha1hex := "fafd82a3d602b37fb0fa8b7892f24a477f851a14"
	noTS, _ := Sign("hmacsha1", "secret", Content("12345", "device", "pk", ""))
	for _, tc := range []struct {
		name, clientID, password string
		wantErr                  error
	}{
		{"sha1 lower", "12345|securemode=3,signmethod=hmacsha1,timestamp=789|", sha1hex, nil},
		{"sha1 upper (the C SDK's hex)", "12345|securemode=3,signmethod=hmacsha1,timestamp=789|", strings.ToUpper(sha1hex), nil},
		{"sha256 upper", "12345|signmethod=hmacsha256,timestamp=789|", "6074A46A91B1EBB2CC4EA42790AD0E80202C9843859FC292E57C4EB19FAD9E57", nil},
		{"md5 by default", "12345|timestamp=789|", "14b198324fe55e1d3c88f2e705e201ee", nil},
		{"no timestamp", "12345|signmethod=hmacsha1|", noTS, nil},
		{"timestamp differs", "12345|signmethod=hmacsha1,timestamp=790|", sha1hex, ErrBadSignature},
		{"wrong method for the hex", "12345|signmethod=hmacsha256,timestamp=789|", sha1hex, ErrBadSignature},
		{"not hex", "12345|signmethod=hmacsha1,timestamp=789|", "zz", ErrBadSignature},
		{"empty password", "12345|signmethod=hmacsha1,timestamp=789|", "", ErrBadSignature},
		{"unknown method", "12345|signmethod=rsa,timestamp=789|", sha1hex, ErrUnsupportedMethod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseClientID(tc.clientID)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(c, "device", "pk", "secret", tc.password); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// What real device code sends (operator-devices-cluster.md §3.1, the table).
func TestParseClientID(t *testing.T) {
	for _, tc := range []struct {
		name, in       string
		id, method, ts string
		params         map[string]string
		wantErr        error
	}{
		{name: "console parameters", in: "k1mopgbwe56.WJP_esp32|securemode=2,signmethod=hmacsha256,timestamp=1700000000000|",
			id: "k1mopgbwe56.WJP_esp32", method: "hmacsha256", ts: "1700000000000",
			params: map[string]string{"securemode": "2", "signmethod": "hmacsha256", "timestamp": "1700000000000"}},
		{name: "C Link SDK v3", in: "pk.dn|timestamp=2524608000000,securemode=3,signmethod=hmacsha256,v=sdk-c-3.0.1,gw=0,ext=0|",
			id: "pk.dn", method: "hmacsha256", ts: "2524608000000",
			params: map[string]string{"timestamp": "2524608000000", "securemode": "3", "signmethod": "hmacsha256", "v": "sdk-c-3.0.1", "gw": "0", "ext": "0"}},
		{name: "C Link SDK v3 guider mode", in: "pk.dn|timestamp=2524608000000,securemode=-1,signmethod=hmacsha256,a=sdk-c-3.0.1|",
			id: "pk.dn", method: "hmacsha256", ts: "2524608000000",
			params: map[string]string{"timestamp": "2524608000000", "securemode": "-1", "signmethod": "hmacsha256", "a": "sdk-c-3.0.1"}},
		{name: "C Link SDK 4.x style", in: "pk.dn|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=2,signmethod=hmacsha256,ext=3,lan=C|",
			id: "pk.dn", method: "hmacsha256", ts: "2524608000000",
			params: map[string]string{"timestamp": "2524608000000", "_ss": "1", "_v": "sdk-c-4.1.0", "securemode": "2", "signmethod": "hmacsha256", "ext": "3", "lan": "C"}},
		{name: "Node SDK", in: "pk&dn|securemode=3,signmethod=hmacsha1,timestamp=1700000000000,lan=NodeJS,_v=1.2.8|",
			id: "pk&dn", method: "hmacsha1", ts: "1700000000000",
			params: map[string]string{"securemode": "3", "signmethod": "hmacsha1", "timestamp": "1700000000000", "lan": "NodeJS", "_v": "1.2.8"}},
		{name: "Node SDK in a browser: '|' and a trailing space in a value", in: "pk&dn|securemode=2,signmethod=hmacsha1,timestamp=1,lan=JS|Broswer ,_v=1.2.8|",
			id: "pk&dn", method: "hmacsha1", ts: "1",
			params: map[string]string{"securemode": "2", "signmethod": "hmacsha1", "timestamp": "1", "lan": "JS|Broswer", "_v": "1.2.8"}},
		{name: "Node SDK in a mini-program", in: "pk&dn|securemode=2,signmethod=hmacsha1,timestamp=1,lan=JS|WX,_v=1.2.8|",
			id: "pk&dn", method: "hmacsha1", ts: "1",
			params: map[string]string{"securemode": "2", "signmethod": "hmacsha1", "timestamp": "1", "lan": "JS|WX", "_v": "1.2.8"}},
		{name: "Node SDK template literal over lines", in: "pk&dn_aliyun-iot-device-sdk-js|\n      securemode=3,\n      signmethod=hmacsha1,\n      timestamp=1,\n      lan=JS\n    |",
			id: "pk&dn_aliyun-iot-device-sdk-js", method: "hmacsha1", ts: "1",
			params: map[string]string{"securemode": "3", "signmethod": "hmacsha1", "timestamp": "1", "lan": "JS"}},
		{name: "Paho-Go demo", in: "any|securemode=2,_v=paho-go-1.0.0,signmethod=hmacsha1,timestamp=1|",
			id: "any", method: "hmacsha1", ts: "1",
			params: map[string]string{"securemode": "2", "_v": "paho-go-1.0.0", "signmethod": "hmacsha1", "timestamp": "1"}},
		{name: "things-go/aliyun-iot", in: "pk.dn|_v=1.0,lan=Golang,securemode=3,signmethod=hmacsha256,timestamp=1,v=20|",
			id: "pk.dn", method: "hmacsha256", ts: "1",
			params: map[string]string{"_v": "1.0", "lan": "Golang", "securemode": "3", "signmethod": "hmacsha256", "timestamp": "1", "v": "20"}},
		{name: "sha256 kept as sent, upper case lowered", in: "x|signmethod=SHA256|", id: "x", method: "sha256",
			params: map[string]string{"signmethod": "SHA256"}},
		{name: "no parameters", in: "x||", id: "x", method: "hmacmd5", params: map[string]string{}},
		{name: "bare id", in: "x", id: "x", method: "hmacmd5", params: map[string]string{}},
		{name: "one bar", in: "x|securemode=3", wantErr: ErrMalformedClientID},
		{name: "text after the last bar", in: "x|securemode=3|junk", wantErr: ErrMalformedClientID},
		{name: "parameter without =", in: "x|securemode|", wantErr: ErrMalformedClientID},
		{name: "empty key", in: "x|=3|", wantErr: ErrMalformedClientID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseClientID(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if c.ID != tc.id || c.SignMethod != tc.method || c.Timestamp != tc.ts || !maps.Equal(c.Params, tc.params) {
				t.Fatalf("got %+v\nwant id %q method %q ts %q params %v", c, tc.id, tc.method, tc.ts, tc.params)
			}
		})
	}
}

func TestParseUsername(t *testing.T) {
	for _, tc := range []struct {
		in, dn, pk string
		wantErr    error
	}{
		{"device&pk", "device", "pk", nil},
		{"dev&ice&pk", "dev&ice", "pk", nil},
		{"device", "", "", ErrMalformedUsername},
		{"&pk", "", "", ErrMalformedUsername},
		{"device&", "", "", ErrMalformedUsername},
	} {
		dn, pk, err := ParseUsername(tc.in)
		if dn != tc.dn || pk != tc.pk || !errors.Is(err, tc.wantErr) {
			t.Errorf("%q: %q %q %v", tc.in, dn, pk, err)
		}
	}
}

func FuzzParseClientID(f *testing.F) {
	for _, s := range []string{"12345|securemode=3,signmethod=hmacsha1,timestamp=789|", "pk&dn|lan=JS|Broswer ,_v=1|", "x", "|", "||", "a|=|", "a|b=|c|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClientID(s)
		if err != nil {
			return
		}
		if c.SignMethod == "" || c.Params == nil {
			t.Fatalf("%q: %+v", s, c)
		}
		_ = Verify(c, "dn", "pk", "secret", "00")
	})
}
