package alerts

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	at := func(hh, mm, ss int) time.Time { return time.Date(2030, 1, 7, hh, mm, ss, 0, time.UTC) }
	tests := []struct {
		window string
		t      time.Time
		want   bool
	}{
		{"00:00-23:59", at(0, 0, 0), true},
		{"00:00-23:59", at(23, 59, 59), true},
		{"08:00-20:00", at(7, 59, 59), false},
		{"08:00-20:00", at(8, 0, 0), true},
		{"08:00-20:00", at(20, 0, 59), true},
		{"08:00-20:00", at(20, 1, 0), false},
		{"22:00-06:00", at(21, 59, 0), false},
		{"22:00-06:00", at(22, 0, 0), true},
		{"22:00-06:00", at(0, 0, 0), true},
		{"22:00-06:00", at(6, 0, 30), true},
		{"22:00-06:00", at(6, 1, 0), false},
		{"22:00-06:00", at(12, 0, 0), false},
		{"12:00-12:00", at(12, 0, 59), true},
		{"12:00-12:00", at(12, 1, 0), false},
	}
	for _, tt := range tests {
		w, err := parseWindow(tt.window)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.contains(tt.t); got != tt.want {
			t.Errorf("%s contains %s = %v, want %v", tt.window, tt.t.Format("15:04:05"), got, tt.want)
		}
	}
}

func TestPeriodStart(t *testing.T) {
	for _, tt := range []struct {
		unix int64
		p    int
		want int64
	}{{0, 300, 0}, {299, 300, 0}, {300, 300, 300}, {1001, 7, 1001}, {1000, 7, 994}, {-1, 300, -300}} {
		if got := periodStart(time.Unix(tt.unix, 0), tt.p); got != tt.want {
			t.Errorf("periodStart(%d, %d) = %d, want %d", tt.unix, tt.p, got, tt.want)
		}
	}
}
