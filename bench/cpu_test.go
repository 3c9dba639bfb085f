package bench

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuMeter measures how busy the whole machine was during the timed part,
// from /proc/stat, so a slow run can be told apart: a stall leaves the
// cores idle, a noisy machine shows steal or a busy box.
type cpuMeter struct {
	start     time.Time
	busy, stl float64 // seconds, all cores
	ok        bool
}

func startCPUMeter() cpuMeter {
	busy, stl, ok := readProcStat()
	return cpuMeter{start: time.Now(), busy: busy, stl: stl, ok: ok}
}

// report adds cores-busy (CPU seconds used machine-wide per second) and
// cores-steal to b's metrics.
func (m cpuMeter) report(b *testing.B) {
	busy, stl, ok := readProcStat()
	if !ok || !m.ok {
		return
	}
	wall := time.Since(m.start).Seconds()
	b.ReportMetric((busy-m.busy)/wall, "cores-busy")
	b.ReportMetric((stl-m.stl)/wall, "cores-steal")
}

// readProcStat returns the machine's non-idle and steal CPU time in seconds.
func readProcStat() (busy, steal float64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, false
	}
	var v [8]float64
	for i := range v {
		n, err := strconv.ParseFloat(f[i+1], 64)
		if err != nil {
			return 0, 0, false
		}
		v[i] = n / 100 // USER_HZ
	}
	// user nice system idle iowait irq softirq steal
	busy = v[0] + v[1] + v[2] + v[5] + v[6]
	return busy, v[7], true
}
