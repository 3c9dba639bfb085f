package simulator

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPayloadTemplates(t *testing.T) {
	for _, text := range []string{DefaultPropertyPayload, DefaultTopicPayload,
		`{"s": "{{pick "on" "off"}}", "t": "{{nowISO}}", "n": {{.Total}}}`} {
		p, err := ParsePayload(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		out, err := p.Make(Fields{Device: "d1", Seq: 7, Total: 9})
		if err != nil || !json.Valid(out) {
			t.Fatalf("%s gave %s, %v", text, out, err)
		}
	}
	p, _ := ParsePayload(`{{.Seq}}-{{.Device}}`)
	if out, _ := p.Make(Fields{Device: "d2", Seq: 3}); string(out) != "3-d2" {
		t.Fatalf("fields: %s", out)
	}
	for _, bad := range []string{`{{.Nope}}`, `{{rand}}`, `{{`} {
		if _, err := ParsePayload(bad); err == nil || !strings.Contains(err.Error(), "payload template") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
