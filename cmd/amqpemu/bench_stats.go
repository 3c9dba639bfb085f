package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The latency histogram is log-linear, in the manner of HdrHistogram: values
// below histSub nanoseconds get a bucket each; above that, every power of two
// is split into histHalf equal buckets. A bucket's width is then at most
// 1/histHalf of its lowest value, so a value read back (the bucket's middle)
// is within 1/(2*histHalf) = 0.4 % of any value recorded in it, and the
// histogram has a fixed size (histBuckets counters, 58 KiB) however many
// values it holds.
const (
	histSubBits = 8
	histSub     = 1 << histSubBits // exact buckets for 0 … histSub-1
	histHalf    = histSub / 2      // buckets per power of two above that
	// A non-negative int64 has at most 63 significant bits: shifts 1 … 63-histSubBits.
	histBuckets = histSub + (63-histSubBits)*histHalf
)

// histogram records non-negative int64 values (latencies in nanoseconds) in
// bounded memory. It is not safe for concurrent use: each receiver owns one
// and they are merged at the end.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	min, max int64
	sum      float64
}

func newHistogram() *histogram { return &histogram{min: math.MaxInt64} }

// bucketOf returns the bucket holding v (v ≥ 0).
func bucketOf(v int64) int {
	u := uint64(v)
	if u < histSub {
		return int(u)
	}
	shift := bits.Len64(u) - histSubBits // ≥ 1; u>>shift is in [histHalf, histSub)
	return histSub + (shift-1)*histHalf + int(u>>shift) - histHalf
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (lo, width int64) {
	if i < histSub {
		return int64(i), 1
	}
	j := i - histSub
	shift := j/histHalf + 1
	return int64(j%histHalf+histHalf) << shift, 1 << shift
}

// Record adds one value; negative values (a clock stepping back) count as 0.
func (h *histogram) Record(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o.
func (h *histogram) Merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of values recorded.
func (h *histogram) Count() uint64 { return h.n }

// Max is the largest value recorded, exactly; 0 when empty.
func (h *histogram) Max() int64 {
	if h.n == 0 {
		return 0
	}
	return h.max
}

// Mean is the average of the values recorded; 0 when empty.
func (h *histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the value at quantile q (0 < q ≤ 1) by nearest rank: the
// middle of the bucket holding the ⌈q·n⌉-th smallest value, kept within the
// recorded minimum and maximum (so Quantile(1) is the exact maximum). It is
// 0 when the histogram is empty.
func (h *histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank >= h.n {
		return h.max
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, width := bucketRange(i)
			return min(max(lo+(width-1)/2, h.min), h.max)
		}
	}
	return h.max // unreachable: the counts add up to n
}

// benchStats are the counters senders and receivers update concurrently and
// the progress loop reads.
type benchStats struct {
	sent     atomic.Int64 // deliveries the broker accepted
	refused  atomic.Int64 // deliveries the broker rejected, released or modified
	received atomic.Int64 // messages received and accepted (counted just before accepting)
	untimed  atomic.Int64 // received messages without a sentAt property

	// Offsets from the start of the run, for the throughput figures.
	lastSent atomic.Int64 // time.Duration of the latest accepted delivery
	lastRecv atomic.Int64 // time.Duration of the latest received message
}

// markSent counts a delivery the broker accepted at offset at.
func (s *benchStats) markSent(at time.Duration) {
	s.sent.Add(1)
	storeMax(&s.lastSent, int64(at))
}

// markReceived notes that a message came in at offset at.
func (s *benchStats) markReceived(at time.Duration) {
	storeMax(&s.lastRecv, int64(at))
}

// storeMax raises a to v unless it already holds more.
func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if old >= v || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// rate is n messages over d, in messages per second; 0 when d is not positive.
func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// benchResult is the outcome of one run, as printed (and as JSON with --json).
type benchResult struct {
	URL            string        `json:"url"`
	Address        string        `json:"address"`
	ReceiveAddress string        `json:"receiveAddress"`
	Senders        int           `json:"senders"`
	Receivers      int           `json:"receivers"`
	Rate           float64       `json:"rate"`
	Inflight       int           `json:"inflight"`
	Credit         int           `json:"credit"`
	Size           int           `json:"size"`
	Sent           int64         `json:"sent"`
	Refused        int64         `json:"refused"`
	Received       int64         `json:"received"`
	Untimed        int64         `json:"untimed"`
	Elapsed        float64       `json:"elapsedSeconds"`
	SendRate       float64       `json:"sendRate"`
	ReceiveRate    float64       `json:"receiveRate"`
	Latency        latencyResult `json:"latency"`
	Backlog        *int64        `json:"backlog,omitempty"` // sent - received; absent when receive-only
	Interrupted    bool          `json:"interrupted,omitempty"`
	Error          string        `json:"error,omitempty"`
}

// latencyResult summarises the end-to-end latencies.
type latencyResult struct {
	Samples uint64 `json:"samples"`
	P50     millis `json:"p50Ms"`
	P90     millis `json:"p90Ms"`
	P99     millis `json:"p99Ms"`
	Max     millis `json:"maxMs"`
	Mean    millis `json:"meanMs"`
}

// millis is a duration written in JSON as milliseconds.
type millis time.Duration

func (m millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m)/1e6, 'f', 3, 64), nil
}

func (m millis) String() string {
	switch d := time.Duration(m); {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	default:
		return d.String()
	}
}

// result gathers the counters and the merged latency histogram.
func (r *benchRun) result(elapsed time.Duration) *benchResult {
	h := newHistogram()
	for _, rh := range r.hists {
		h.Merge(rh)
	}
	s := &r.stats
	res := &benchResult{
		URL: r.cfg.redactedURL(), Address: r.cfg.address, ReceiveAddress: r.cfg.receiveAddress,
		Senders: r.cfg.senders, Receivers: r.cfg.receivers, Rate: r.cfg.rate,
		Inflight: r.cfg.inflight, Credit: r.cfg.credit, Size: r.cfg.size,
		Sent: s.sent.Load(), Refused: s.refused.Load(), Received: s.received.Load(), Untimed: s.untimed.Load(),
		Elapsed:     elapsed.Seconds(),
		SendRate:    rate(s.sent.Load(), time.Duration(s.lastSent.Load())),
		ReceiveRate: rate(s.received.Load(), time.Duration(s.lastRecv.Load())),
		Latency: latencyResult{
			Samples: h.Count(),
			P50:     millis(h.Quantile(0.50)),
			P90:     millis(h.Quantile(0.90)),
			P99:     millis(h.Quantile(0.99)),
			Max:     millis(h.Max()),
			Mean:    millis(h.Mean()),
		},
	}
	if r.cfg.senders > 0 {
		backlog := s.sent.Load() - s.received.Load()
		res.Backlog = &backlog
	}
	return res
}

// writeResult prints the summary, or one JSON object with --json.
func writeResult(w io.Writer, cfg benchConfig, res *benchResult) error {
	if cfg.json {
		return json.NewEncoder(w).Encode(res)
	}
	var b strings.Builder
	switch {
	case res.Receivers == 0:
		fmt.Fprintf(&b, "amqpemu bench  %s  to %q\n", res.URL, res.Address)
	case res.Senders == 0:
		fmt.Fprintf(&b, "amqpemu bench  %s  from %q\n", res.URL, res.ReceiveAddress)
	default:
		fmt.Fprintf(&b, "amqpemu bench  %s  %q → %q\n", res.URL, res.Address, res.ReceiveAddress)
	}
	if res.Senders > 0 {
		writeSendResult(&b, res)
	}
	if res.Receivers > 0 {
		writeReceiveResult(&b, res)
	}
	if res.Backlog != nil {
		fmt.Fprintf(&b, "  backlog   %d (sent - received)\n", *res.Backlog)
	}
	fmt.Fprintf(&b, "  elapsed   %v\n", time.Duration(res.Elapsed*float64(time.Second)).Round(time.Millisecond))
	if res.Interrupted {
		b.WriteString("  interrupted: the figures are those so far\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSendResult(b *strings.Builder, res *benchResult) {
	pace := "flat out"
	if res.Rate > 0 {
		pace = fmt.Sprintf("at %g msgs/s", res.Rate)
	}
	fmt.Fprintf(b, "  senders   %d, %d in flight each, %s, payload %d B\n", res.Senders, res.Inflight, pace, res.Size)
	fmt.Fprintf(b, "  sent      %d msgs  %.0f msgs/s\n", res.Sent, res.SendRate)
	if res.Refused > 0 {
		fmt.Fprintf(b, "  refused   %d msgs (rejected, released or modified by the broker)\n", res.Refused)
	}
}

func writeReceiveResult(b *strings.Builder, res *benchResult) {
	fmt.Fprintf(b, "  receivers %d, credit %d each\n", res.Receivers, res.Credit)
	fmt.Fprintf(b, "  received  %d msgs  %.0f msgs/s\n", res.Received, res.ReceiveRate)
	if l := res.Latency; l.Samples > 0 {
		fmt.Fprintf(b, "  latency   p50 %v  p90 %v  p99 %v  max %v  mean %v  (%d samples)\n",
			l.P50, l.P90, l.P99, l.Max, l.Mean, l.Samples)
	}
	if res.Untimed > 0 {
		fmt.Fprintf(b, "  untimed   %d received messages had no sentAt property\n", res.Untimed)
	}
}
