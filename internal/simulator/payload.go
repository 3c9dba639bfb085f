package simulator

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"text/template"
	"time"
)

// Payload makes the body of each message from a text/template. Its data is
// the message's Fields; its functions:
//
//	{{rand 20 30}}    a float in [20, 30), two decimals
//	{{randInt 1 6}}   an int in [1, 6]
//	{{now}}           epoch milliseconds
//	{{nowISO}}        RFC 3339 with milliseconds, UTC
//	{{pick "on" "off"}} one of its arguments
//
// e.g. {"temp": {{rand 20 30}}, "n": {{.Seq}}, "device": "{{.Device}}"}.
type Payload struct{ t *template.Template }

// Fields are what a payload template can name.
type Fields struct {
	Device string // the device name
	Seq    int    // the message's number for its device, from 1
	Total  int    // the message's number in the run, from 1
}

// DefaultPropertyPayload is the property post's params when no template is
// given: a temperature and a humidity.
const DefaultPropertyPayload = `{"Temperature": {{rand 15 35}}, "Humidity": {{randInt 20 90}}}`

// DefaultTopicPayload is a custom topic's payload when no template is given.
const DefaultTopicPayload = `{"device": "{{.Device}}", "seq": {{.Seq}}, "temperature": {{rand 15 35}}, "ts": {{now}}}`

var funcs = template.FuncMap{
	"rand": func(lo, hi float64) string {
		return fmt.Sprintf("%.2f", lo+rand.Float64()*(hi-lo))
	},
	"randInt": func(lo, hi int) int {
		if hi < lo {
			lo, hi = hi, lo
		}
		return lo + rand.IntN(hi-lo+1)
	},
	"now":    func() int64 { return time.Now().UnixMilli() },
	"nowISO": func() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") },
	"pick": func(choices ...string) string {
		if len(choices) == 0 {
			return ""
		}
		return choices[rand.IntN(len(choices))]
	},
}

// ParsePayload compiles a template, checking it once against sample fields
// so that a mistake shows before any device connects.
func ParsePayload(text string) (*Payload, error) {
	t, err := template.New("payload").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("payload template: %w", err)
	}
	p := &Payload{t: t}
	if _, err := p.Make(Fields{Device: "sample", Seq: 1, Total: 1}); err != nil {
		return nil, err
	}
	return p, nil
}

// Make renders one payload.
func (p *Payload) Make(f Fields) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.t.Execute(&buf, f); err != nil {
		return nil, fmt.Errorf("payload template: %w", err)
	}
	return buf.Bytes(), nil
}
