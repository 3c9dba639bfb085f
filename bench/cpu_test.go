package bench

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures how busy the whole machine was during the timed part,
// from /proc/stat, so a slow run can be told apart: a stall leaves the
// cores idle, a noisy machine shows steal or a busy box.
//
// It also measures this process's own CPU time (user + system), reported
// per operation: the cost of a message, which other processes on a noisy
// machine disturb far less than the throughput.
type cpuMeter struct {
	start     time.Time
	busy, stl float64 // seconds, all cores
	self      float64 // seconds, this process
	ok        bool
}

func startCPUMeter() cpuMeter {
	busy, stl, ok := readProcStat()
	return cpuMeter{start: time.Now(), busy: busy, stl: stl, self: selfCPU(), ok: ok}
}

// selfCPU is the CPU time this process has used, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// report adds this process's CPU per unit (cpu-µs/<unit>, over n units)
// and cores-busy (CPU seconds used machine-wide per second) and cores-steal
// to b's metrics.
func (m cpuMeter) report(b *testing.B, n int, unit string) {
	b.ReportMetric((selfCPU()-m.self)*1e6/float64(n), "cpu-µs/"+unit)
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

// timeDrain times drain (b.N messages) alone and reports msgs/s and the CPU
// figures: the set-up before it and the checks after it are not timed.
func timeDrain(b *testing.B, drain func(n int) error) {
	timeDeliveries(b, b.N, "op", func() error { return drain(b.N) })
}

// timeDeliveries times drain, which makes n deliveries, and reports msgs/s
// as deliveries per second and this process's CPU per delivery as
// cpu-µs/<unit>. It is timeDrain for benchmarks whose b.N is not the number
// of deliveries (a fan-out delivers each message once per group).
func timeDeliveries(b *testing.B, n int, unit string, drain func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	b.StartTimer()
	cpu := startCPUMeter()
	start := time.Now()
	if err := drain(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	cpu.report(b, n, unit)
}
