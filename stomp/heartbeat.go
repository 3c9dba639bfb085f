package stomp

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxBeatMillis caps heart-beat intervals so that doubling one cannot
// overflow a time.Duration (about 24 days).
const maxBeatMillis = 1 << 31

// parseHeartBeat reads a CONNECT heart-beat header "cx,cy": the client can
// send every cx ms and wants to receive every cy ms; 0 means never, and an
// absent header is "0,0" (§Heart-beating).
func parseHeartBeat(v string) (cx, cy int, err error) {
	if v == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(v, ",")
	if ok {
		cx, err = parseBeat(a)
	}
	if ok && err == nil {
		cy, err = parseBeat(b)
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("heart-beat header %q: want two non-negative integers of milliseconds, e.g. 0,10000", v)
	}
	return cx, cy, nil
}

func parseBeat(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad interval %q", s)
	}
	return min(n, maxBeatMillis), nil
}

// negotiateBeats applies §Heart-beating to the client's cx,cy and what the
// server advertises (floor: how often it can send; want: how often it
// wants the client to send). send is the server's interval, expect the
// client's; zero means none.
func negotiateBeats(cx, cy int, floor, want time.Duration) (send, expect time.Duration) {
	if cy > 0 {
		send = max(time.Duration(cy)*time.Millisecond, floor)
	}
	if cx > 0 {
		expect = max(time.Duration(cx)*time.Millisecond, want)
	}
	return send, expect
}

// advertisedBeats is the CONNECTED heart-beat header: "sx,sy".
func advertisedBeats(floor, want time.Duration) string {
	return strconv.FormatInt(floor.Milliseconds(), 10) + "," + strconv.FormatInt(want.Milliseconds(), 10)
}
