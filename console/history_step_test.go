package console

import (
	"testing"
	"time"
)

func TestHistoryStep(t *testing.T) {
	for _, tt := range []struct{ window, every, want time.Duration }{
		{15 * time.Minute, 5 * time.Second, 5 * time.Second},
		{time.Hour, 5 * time.Second, 6 * time.Second},
		{8 * time.Hour, 5 * time.Second, 48 * time.Second},
		{61 * time.Minute, 5 * time.Second, 7 * time.Second}, // rounded up: 6.1 s
		{time.Hour, 10 * time.Second, 10 * time.Second},
	} {
		if got := historyStep(tt.window, tt.every); got != tt.want {
			t.Errorf("historyStep(%s, %s) = %s, want %s", tt.window, tt.every, got, tt.want)
		}
		if n := tt.window / historyStep(tt.window, tt.every); n > maxHistoryPoints {
			t.Errorf("window %s: %d steps", tt.window, n)
		}
	}
}
