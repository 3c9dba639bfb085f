package logservice

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/aliyun/aliyun-log-go-sdk/producer"
	"github.com/amqpemu/amqpemu/internal/brokertest"
	"github.com/gogo/protobuf/proto"
)

// TestProducer: the SDK's batching producer (PostLogStoreLogsV2, lz4 by
// default, hash keys adjusted to bucket prefixes) writes every log it is
// given, and a hash key keeps to one shard.
func TestProducer(t *testing.T) {
	skipUnderRace(t)
	hs := startServer(t, brokertest.Open(t, t.TempDir()))
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "prod-project", "produced", 4)
	proxy, _ := url.Parse(hs.URL)
	for _, ct := range []int{sls.Compress_LZ4, sls.Compress_ZSTD} {
		cfg := producer.GetDefaultProducerConfig()
		cfg.Endpoint = testEndpoint
		cfg.CredentialsProvider = sls.NewStaticCredentialsProvider(testAK, testSecret, "")
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 30 * time.Second}
		cfg.LingerMs = 100
		cfg.CompressType = ct
		cfg.DisableRuntimeMetrics = true
		p, err := producer.NewProducer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p.Start()
		for i := range 20 {
			l := &sls.Log{Time: proto.Uint32(uint32(time.Now().Unix())), Contents: []*sls.LogContent{{Key: proto.String("i"), Value: proto.String(strconv.Itoa(i))}}}
			if err := p.SendLog("prod-project", "produced", "plain", "src", l); err != nil {
				t.Fatal(err)
			}
			if err := p.HashSendLog("prod-project", "produced", "device-42", "hashed", "src", l); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(10_000); err != nil {
			t.Fatalf("closing the producer: %v", err)
		}
	}
	counts := map[string]int{}
	hashedShards := map[int]bool{}
	for shard := range 4 {
		for _, g := range pullShard(t, c, "prod-project", "produced", shard) {
			counts[g.GetTopic()] += len(g.Logs)
			if g.GetTopic() == "hashed" {
				hashedShards[shard] = true
			}
		}
	}
	if counts["plain"] != 40 || counts["hashed"] != 40 {
		t.Fatalf("logs read back by topic: %v; want 40 of each", counts)
	}
	if len(hashedShards) != 1 {
		t.Fatalf("one hash key's logs are on shards %v; want one shard", hashedShards)
	}
}
