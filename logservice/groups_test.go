package logservice

import (
	"fmt"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

func TestSDKConsumerGroups(t *testing.T) {
	c := sdkClient(t, startServer(t, brokertest.Open(t, t.TempDir())), testAK, testSecret)
	setUp(t, c, "grp-project", "store", 2)
	cg := sls.ConsumerGroup{ConsumerGroupName: "readers", Timeout: 60}
	if err := c.CreateConsumerGroup("grp-project", "store", cg); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateConsumerGroup("grp-project", "store", sls.ConsumerGroup{ConsumerGroupName: "readers", Timeout: 30, InOrder: true}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListConsumerGroup("grp-project", "store")
	if err != nil || len(list) != 1 || *list[0] != (sls.ConsumerGroup{ConsumerGroupName: "readers", Timeout: 30, InOrder: true}) {
		t.Fatalf("ListConsumerGroup = %v, %v", list, err)
	}
	if cps, err := c.GetCheckpoint("grp-project", "store", "readers"); err != nil || len(cps) != 0 {
		t.Fatalf("a new group's checkpoints: %v, %v", cps, err)
	}
	cursor, _ := c.GetCursor("grp-project", "store", 1, "end")
	if err := c.UpdateCheckpoint("grp-project", "store", "readers", "anyone", 1, cursor, true); err != nil {
		t.Fatalf("a forced checkpoint: %v", err)
	}
	cps, err := c.GetCheckpoint("grp-project", "store", "readers")
	if err != nil || len(cps) != 1 || cps[0].ShardID != 1 || cps[0].CheckPoint != cursor || cps[0].Consumer != "anyone" || cps[0].UpdateTime == 0 {
		t.Fatalf("GetCheckpoint = %v, %v", cps, err)
	}
	if shards, err := c.HeartBeat("grp-project", "store", "readers", "w1", nil); err != nil || fmt.Sprint(shards) != "[0 1]" {
		t.Fatalf("the first heartbeat: %v, %v", shards, err)
	}
	if err := c.UpdateCheckpoint("grp-project", "store", "readers", "w1", 0, cursor, false); err != nil {
		t.Fatalf("the owner's checkpoint: %v", err)
	}
	for i := range 29 {
		if err := c.CreateConsumerGroup("grp-project", "store", sls.ConsumerGroup{ConsumerGroupName: fmt.Sprintf("g%d", i), Timeout: 10}); err != nil {
			t.Fatalf("group %d of 30: %v", i+2, err)
		}
	}
	for _, tc := range []struct {
		name   string
		call   func() error
		status int32
		code   string
	}{
		{"the same group twice", func() error { return c.CreateConsumerGroup("grp-project", "store", cg) }, 400, "ConsumerGroupAlreadyExist"},
		{"a 31st group", func() error {
			return c.CreateConsumerGroup("grp-project", "store", sls.ConsumerGroup{ConsumerGroupName: "one-too-many", Timeout: 10})
		}, 400, "ConsumerGroupQuotaExceed"},
		{"a bad name", func() error {
			return c.CreateConsumerGroup("grp-project", "store", sls.ConsumerGroup{ConsumerGroupName: "a.b", Timeout: 10})
		}, 400, "ParameterInvalid"},
		{"no timeout", func() error {
			return c.CreateConsumerGroup("grp-project", "store", sls.ConsumerGroup{ConsumerGroupName: "zero"})
		}, 400, "ParameterInvalid"},
		{"a missing project", func() error { return c.CreateConsumerGroup("no-such-project", "store", cg) }, 404, "ProjectNotExist"},
		{"a missing logstore", func() error { return c.CreateConsumerGroup("grp-project", "missing", cg) }, 404, "LogStoreNotExist"},
		{"a missing group's checkpoints", func() error { _, err := c.GetCheckpoint("grp-project", "store", "missing"); return err }, 404, "ConsumerGroupNotExist"},
		{"a checkpoint of a consumer never seen", func() error {
			return c.UpdateCheckpoint("grp-project", "store", "readers", "stranger", 0, cursor, false)
		}, 400, "ConsumerNotExsit"},
		{"a checkpoint of a shard that is not the consumer's", func() error {
			c.HeartBeat("grp-project", "store", "readers", "w2", nil)
			return c.UpdateCheckpoint("grp-project", "store", "readers", "w2", 0, cursor, false)
		}, 400, "ConsumerNotMatch"},
		{"a checkpoint of a missing shard", func() error {
			return c.UpdateCheckpoint("grp-project", "store", "readers", "w1", 5, cursor, true)
		}, 400, "ShardNotExsit"},
		{"a checkpoint that is no cursor", func() error {
			return c.UpdateCheckpoint("grp-project", "store", "readers", "w1", 0, "garbage", true)
		}, 400, "InvalidCursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := slsError(t, tc.call())
			if e.HTTPCode != tc.status || e.Code != tc.code || e.RequestID == "" {
				t.Fatalf("got %d %s %q, want %d %s", e.HTTPCode, e.Code, e.Message, tc.status, tc.code)
			}
		})
	}
	if err := c.DeleteConsumerGroup("grp-project", "store", "readers"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCheckpoint("grp-project", "store", "readers"); slsError(t, err).Code != "ConsumerGroupNotExist" {
		t.Fatalf("a deleted group: %v", err)
	}
	// A logstore made again under a deleted one's name has none of its groups.
	if err := c.DeleteLogStore("grp-project", "store"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateLogStore("grp-project", "store", 1, 2, false, 0); err != nil {
		t.Fatal(err)
	}
	if list, err := c.ListConsumerGroup("grp-project", "store"); err != nil || len(list) != 0 {
		t.Fatalf("the re-made logstore's groups: %v, %v", list, err)
	}
}

func TestGroupStatus(t *testing.T) {
	hs, srv := startServerS(t, brokertest.Open(t, t.TempDir()))
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "st-project", "store", 2)
	for i := range 5 {
		if err := c.PutLogs("st-project", "store", logGroup(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CreateConsumerGroup("st-project", "store", sls.ConsumerGroup{ConsumerGroupName: "g", Timeout: 60, InOrder: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeartBeat("st-project", "store", "g", "w1", nil); err != nil {
		t.Fatal(err)
	}
	// Shard 0 holds groups 0, 2, 4: checkpoint after the first of them.
	begin, _ := c.GetCursor("st-project", "store", 0, "begin")
	_, next, err := c.PullLogs("st-project", "store", 0, begin, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateCheckpoint("st-project", "store", "g", "w1", 0, next, false); err != nil {
		t.Fatal(err)
	}
	st, err := srv.GroupStatus(t.Context(), "st-project", "store", "g")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Order || st.Timeout != 60 || len(st.Consumers) != 1 || st.Consumers[0].Name != "w1" || len(st.Shards) != 2 {
		t.Fatalf("status %+v", st)
	}
	if sh := st.Shards[0]; sh.Backlog != 2 || sh.Checkpoint != next || sh.Consumer != "w1" {
		t.Errorf("shard 0: %+v, want backlog 2 after the checkpoint", sh)
	}
	if sh := st.Shards[1]; sh.Backlog != 2 || sh.Checkpoint != "" {
		t.Errorf("shard 1: %+v, want backlog 2 (no checkpoint: all kept)", sh)
	}
	if _, err := srv.GroupStatus(t.Context(), "st-project", "store", "missing"); toError(err).Code != groupNotFound {
		t.Errorf("a missing group's status: %v", err)
	}
	// Groups: every group of every logstore, backlogs summed.
	if err := c.CreateConsumerGroup("st-project", "store", sls.ConsumerGroup{ConsumerGroupName: "a-first", Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeartBeat("st-project", "store", "g", "w1", []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	all, err := srv.Groups(t.Context())
	if err != nil || len(all) != 2 {
		t.Fatalf("Groups = %+v, %v; want 2", all, err)
	}
	if g := all[0]; g.Name != "a-first" || g.Backlog != 5 || g.Project != "st-project" || g.Logstore != "store" || len(g.Consumers) != 0 {
		t.Errorf("first: %+v; want a-first with all 5 groups behind it", g)
	}
	if g := all[1]; g.Name != "g" || g.Backlog != 4 || len(g.Consumers) != 1 || len(g.Shards) != 2 || g.Shards[0].Owner != "w1" || g.Shards[1].Owner != "w1" {
		t.Errorf("second: %+v; want g with 4 behind its checkpoints, both shards run by w1", g)
	}
}
