package logservice

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumerLibrary "github.com/aliyun/aliyun-log-go-sdk/consumer"
	"github.com/amqpemu/amqpemu/internal/brokertest"
	"github.com/gogo/protobuf/proto"
)

// consumed records what consumer-library workers processed, and whether
// two ever ran one shard at the same time.
type consumed struct {
	mu       sync.Mutex
	topics   map[string]int   // topic → times processed
	sequence map[int][]string // shard → topics in the order processed
	byWorker map[string]map[int]bool
	running  map[int]string // shard → worker inside the processor
	overlap  string
}

func newConsumed() *consumed {
	return &consumed{topics: map[string]int{}, sequence: map[int][]string{}, byWorker: map[string]map[int]bool{}, running: map[int]string{}}
}

func (c *consumed) process(worker string) func(int, *sls.LogGroupList, consumerLibrary.CheckPointTracker) (string, error) {
	return func(shard int, gl *sls.LogGroupList, tracker consumerLibrary.CheckPointTracker) (string, error) {
		c.mu.Lock()
		if other, ok := c.running[shard]; ok && other != worker {
			c.overlap = "shard " + strconv.Itoa(shard) + " run by " + other + " and " + worker
		}
		c.running[shard] = worker
		for _, g := range gl.LogGroups {
			c.topics[g.GetTopic()]++
			c.sequence[shard] = append(c.sequence[shard], g.GetTopic())
		}
		if c.byWorker[worker] == nil {
			c.byWorker[worker] = map[int]bool{}
		}
		if len(gl.LogGroups) > 0 {
			c.byWorker[worker][shard] = true
		}
		delete(c.running, shard)
		c.mu.Unlock()
		tracker.SaveCheckPoint(true)
		return "", nil
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// all reports whether every topic in want was processed at least once.
func (c *consumed) all(want []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range want {
		if c.topics[w] == 0 {
			return false
		}
	}
	return true
}

func putTopics(t *testing.T, c sls.ClientInterface, project, logstore string, from, n int) []string {
	t.Helper()
	var topics []string
	for i := from; i < from+n; i++ {
		g := logGroup(i, 1)
		g.Topic = proto.String("t-" + strconv.Itoa(i))
		if err := c.PutLogs(project, logstore, g); err != nil {
			t.Fatal(err)
		}
		topics = append(topics, g.GetTopic())
	}
	return topics
}

func startWorker(t *testing.T, hs *httptest.Server, name string, c *consumed, mod ...func(*consumerLibrary.LogHubConfig)) *consumerLibrary.ConsumerWorker {
	t.Helper()
	return startWorkerFunc(t, hs, name, c.process(name), mod...)
}

// startWorkerFunc starts a consumer-library worker of group readers of
// cg-project/events (unless mod says otherwise) running process.
func startWorkerFunc(t *testing.T, hs *httptest.Server, name string, process func(int, *sls.LogGroupList, consumerLibrary.CheckPointTracker) (string, error), mod ...func(*consumerLibrary.LogHubConfig)) *consumerLibrary.ConsumerWorker {
	t.Helper()
	proxy, _ := url.Parse(hs.URL)
	cfg := consumerLibrary.LogHubConfig{
		Endpoint: testEndpoint, AccessKeyID: testAK, AccessKeySecret: testSecret,
		Project: "cg-project", Logstore: "events", ConsumerGroupName: "readers", ConsumerName: name,
		CursorPosition:            consumerLibrary.BEGIN_CURSOR,
		HeartbeatIntervalInSecond: 1, HeartbeatTimeoutInSecond: 3,
		DataFetchIntervalInMs: 50, AutoCommitIntervalInMS: 200,
		AllowLogLevel: "error", DisableRuntimeMetrics: true,
		HTTPClient: &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 30 * time.Second},
	}
	for _, m := range mod {
		m(&cfg)
	}
	w := consumerLibrary.InitConsumerWorkerWithCheckpointTracker(cfg, process)
	w.Start()
	return w
}

// TestConsumerLibrary runs the vendor's consumer library: two workers of
// one group share four shards and consume everything; one stops and its
// shards move to the other after the timeout; after a broker restart a new
// worker resumes from the checkpoints, reading only what came since.
func TestConsumerLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a heartbeat timeout")
	}
	skipUnderRace(t)
	dir := t.TempDir()
	b := brokertest.Open(t, dir)
	hs, srv := startServerS(t, b)
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "cg-project", "events", 4)
	first := putTopics(t, c, "cg-project", "events", 0, 40)

	got := newConsumed()
	a := startWorker(t, hs, "worker-a", got)
	bw := startWorker(t, hs, "worker-b", got)
	waitFor(t, "the first 40 groups", 30*time.Second, func() bool { return got.all(first) })
	// Balanced: each worker ends up running two shards, none both.
	waitFor(t, "an even split", 30*time.Second, func() bool {
		cs, err := srv.Consumers(t.Context(), "cg-project", "events", "readers")
		if err != nil {
			t.Fatal(err)
		}
		return len(cs) == 2 && len(cs[0].Held) == 2 && len(cs[1].Held) == 2 &&
			!slices.ContainsFunc(cs[0].Held, func(s int) bool { return slices.Contains(cs[1].Held, s) })
	})

	a.StopAndWait()
	second := putTopics(t, c, "cg-project", "events", 40, 40)
	waitFor(t, "the next 40 groups, by worker-b alone", 30*time.Second, func() bool { return got.all(second) })
	got.mu.Lock()
	if got.overlap != "" {
		t.Errorf("overlap: %s", got.overlap)
	}
	if len(got.byWorker["worker-b"]) != 4 {
		t.Errorf("after worker-a stopped, worker-b read shards %v; want all 4", got.byWorker["worker-b"])
	}
	got.mu.Unlock()
	bw.StopAndWait()
	// Every shard's checkpoint is its end: everything was read and saved.
	cps, err := c.GetCheckpoint("cg-project", "events", "readers")
	if err != nil || len(cps) != 4 {
		t.Fatalf("GetCheckpoint = %v, %v", cps, err)
	}
	for _, cp := range cps {
		if end, _ := c.GetCursor("cg-project", "events", cp.ShardID, "end"); cp.CheckPoint != end {
			t.Errorf("shard %d checkpoint %q, end %q", cp.ShardID, cp.CheckPoint, end)
		}
	}

	b.Close(t.Context())
	hs2 := startServer(t, brokertest.Open(t, dir))
	c2 := sdkClient(t, hs2, testAK, testSecret)
	third := putTopics(t, c2, "cg-project", "events", 80, 8)
	after := newConsumed()
	w := startWorker(t, hs2, "worker-c", after)
	defer w.StopAndWait()
	waitFor(t, "the groups put after the restart", 30*time.Second, func() bool { return after.all(third) })
	after.mu.Lock()
	defer after.mu.Unlock()
	if len(after.topics) != len(third) {
		t.Fatalf("after the restart the worker read %d topics, want only the %d new ones: %v", len(after.topics), len(third), after.topics)
	}
}

// TestConsumerLibraryInOrder: a group with order=true reads each shard in
// the order its groups were received, with small pulls so that the order
// spans many of them.
func TestConsumerLibraryInOrder(t *testing.T) {
	skipUnderRace(t)
	hs := startServer(t, brokertest.Open(t, t.TempDir()))
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "cg-project", "events", 2)
	topics := putTopics(t, c, "cg-project", "events", 0, 30)
	got := newConsumed()
	w := startWorker(t, hs, "ordered", got, func(cfg *consumerLibrary.LogHubConfig) {
		cfg.InOrder = true
		cfg.MaxFetchLogGroupCount = 2
	})
	defer w.StopAndWait()
	waitFor(t, "every group", 30*time.Second, func() bool { return got.all(topics) })
	groups, err := c.ListConsumerGroup("cg-project", "events")
	if err != nil || len(groups) != 1 || !groups[0].InOrder {
		t.Fatalf("the library made the group %v, %v; want order=true", groups, err)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	for shard := range 2 {
		var want []string // round robin: shard k took every other group from k
		for i := shard; i < 30; i += 2 {
			want = append(want, "t-"+strconv.Itoa(i))
		}
		if !slices.Equal(got.sequence[shard], want) {
			t.Errorf("shard %d read %v, want %v", shard, got.sequence[shard], want)
		}
	}
}
