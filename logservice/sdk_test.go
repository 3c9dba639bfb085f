package logservice

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/amqpemu/amqpemu/internal/brokertest"
	"github.com/gogo/protobuf/proto"
	"google.golang.org/protobuf/encoding/protowire"
)

// setUp makes project p with logstore ls of shards shards.
func setUp(t *testing.T, c sls.ClientInterface, p, ls string, shards int) {
	t.Helper()
	if _, err := c.CreateProject(p, "made by a test"); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if err := c.CreateLogStore(p, ls, 1, shards, false, 0); err != nil {
		t.Fatalf("CreateLogStore: %v", err)
	}
}

// logGroup is a group of n logs tagged with i.
func logGroup(i, n int) *sls.LogGroup {
	g := &sls.LogGroup{Topic: proto.String("topic-" + strconv.Itoa(i)), Source: proto.String("10.0.0.1"),
		LogTags: []*sls.LogTag{{Key: proto.String("tag"), Value: proto.String(strconv.Itoa(i))}}}
	for j := range n {
		g.Logs = append(g.Logs, &sls.Log{Time: proto.Uint32(uint32(1_700_000_000 + j)), Contents: []*sls.LogContent{
			{Key: proto.String("k"), Value: proto.String(fmt.Sprintf("group %d log %d", i, j))},
			{Key: proto.String("pad"), Value: proto.String(string(bytes.Repeat([]byte{byte('a' + j%26)}, 40)))},
		}})
	}
	return g
}

func marshal(t *testing.T, g *sls.LogGroup) []byte {
	t.Helper()
	b, err := proto.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSDKProjectsAndLogstores(t *testing.T) {
	c := sdkClient(t, startServer(t, brokertest.Open(t, t.TempDir())), testAK, testSecret)
	if _, err := c.CreateProject("my-project", "desc"); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetProject("my-project")
	if err != nil || p.Name != "my-project" || p.Description != "desc" || p.Status != "Normal" || p.CreateTime == "" {
		t.Fatalf("GetProject = %+v, %v", p, err)
	}
	if ok, err := c.CheckProjectExist("my-project"); !ok || err != nil {
		t.Fatalf("CheckProjectExist(my-project) = %v, %v", ok, err)
	}
	if ok, err := c.CheckProjectExist("no-such-project"); ok || err != nil {
		t.Fatalf("CheckProjectExist(no-such-project) = %v, %v", ok, err)
	}
	if err := c.CreateLogStore("my-project", "default_two", 7, 0, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateLogStore("my-project", "four", 1, 4, true, 64); err != nil {
		t.Fatal(err)
	}
	ls, err := c.GetLogStore("my-project", "default_two")
	if err != nil || ls.ShardCount != 2 || ls.TTL != 7 || ls.CreateTime == 0 {
		t.Fatalf("GetLogStore(default_two) = %+v, %v; want 2 shards (the default), ttl 7", ls, err)
	}
	names, err := c.ListLogStore("my-project")
	if err != nil || !slices.Equal(names, []string{"default_two", "four"}) {
		t.Fatalf("ListLogStore = %v, %v", names, err)
	}
	shards, err := c.ListShards("my-project", "four")
	if err != nil || len(shards) != 4 {
		t.Fatalf("ListShards = %v, %v", shards, err)
	}
	wantKeys := []string{"00000000000000000000000000000000", "40000000000000000000000000000000", "80000000000000000000000000000000", "c0000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"}
	for i, s := range shards {
		if s.ShardID != i || s.Status != "readwrite" || s.InclusiveBeginKey != wantKeys[i] || s.ExclusiveBeginKey != wantKeys[i+1] {
			t.Errorf("shard %d = %+v", i, *s)
		}
	}
	if err := c.DeleteLogStore("my-project", "four"); err != nil {
		t.Fatal(err)
	}
	if names, _ := c.ListLogStore("my-project"); !slices.Equal(names, []string{"default_two"}) {
		t.Fatalf("after delete, ListLogStore = %v", names)
	}
	if ok, err := c.CheckLogstoreExist("my-project", "four"); ok || err != nil {
		t.Fatalf("CheckLogstoreExist(deleted) = %v, %v", ok, err)
	}
	if err := c.DeleteProject("my-project"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetProject("my-project"); slsError(t, err).Code != "ProjectNotExist" {
		t.Fatalf("GetProject after delete: %v", err)
	}
	// Deleting the project took its logstores (and their streams) along.
	if _, err := c.CreateProject("my-project", ""); err != nil {
		t.Fatal(err)
	}
	if names, err := c.ListLogStore("my-project"); err != nil || len(names) != 0 {
		t.Fatalf("a re-made project lists %v, %v", names, err)
	}
}

// TestSDKPutPull writes with every compression the SDK has, reads back with
// both the SDK can ask for, and compares bytes.
func TestSDKPutPull(t *testing.T) {
	c := sdkClient(t, startServer(t, brokertest.Open(t, t.TempDir())), testAK, testSecret)
	setUp(t, c, "pp-project", "logs", 2)
	var sent [][]byte
	for i, ct := range []int{sls.Compress_LZ4, sls.Compress_ZSTD, sls.Compress_None, sls.Compress_LZ4} {
		g := logGroup(i, 3+i)
		sent = append(sent, marshal(t, g))
		if err := c.PutLogsWithCompressType("pp-project", "logs", g, ct); err != nil {
			t.Fatalf("PutLogs (compression %d): %v", ct, err)
		}
	}
	// Round robin: groups 0 and 2 went to shard 0, 1 and 3 to shard 1.
	for shard, want := range [][][]byte{{sent[0], sent[2]}, {sent[1], sent[3]}} {
		for _, accept := range []int{sls.Compress_LZ4, sls.Compress_ZSTD} {
			begin, err := c.GetCursor("pp-project", "logs", shard, "begin")
			if err != nil {
				t.Fatal(err)
			}
			raw, meta, err := c.GetLogsBytesWithQuery(&sls.PullLogRequest{Project: "pp-project", Logstore: "logs", ShardID: shard,
				Cursor: begin, LogGroupMaxCount: 100, CompressType: accept})
			if err != nil {
				t.Fatalf("shard %d, accept %d: %v", shard, accept, err)
			}
			var wantList []byte
			for _, g := range want {
				wantList = protowire.AppendTag(wantList, 1, protowire.BytesType) // LogGroupList.LogGroups
				wantList = protowire.AppendBytes(wantList, g)
			}
			if !bytes.Equal(raw, wantList) || meta.Count != 2 {
				t.Fatalf("shard %d, accept %d: %d groups, %d bytes; want the %d bytes put", shard, accept, meta.Count, len(raw), len(wantList))
			}
		}
	}
	// PullLogs decodes, numbers each group's cursor, and ends where end is.
	begin, _ := c.GetCursor("pp-project", "logs", 0, "begin")
	end, _ := c.GetCursor("pp-project", "logs", 0, "end")
	gl, next, err := c.PullLogs("pp-project", "logs", 0, begin, "", 1)
	if err != nil || len(gl.LogGroups) != 1 || gl.LogGroups[0].GetTopic() != "topic-0" || gl.LogGroups[0].GetCursor() != begin {
		t.Fatalf("PullLogs count 1 = %v, %v", gl, err)
	}
	gl, next2, err := c.PullLogs("pp-project", "logs", 0, next, "", 10)
	if err != nil || len(gl.LogGroups) != 1 || gl.LogGroups[0].GetTopic() != "topic-2" || len(gl.LogGroups[0].Logs) != 5 || next2 != end {
		t.Fatalf("second PullLogs = %v, next %q (end %q), %v", gl, next2, end, err)
	}
	gl, next3, err := c.PullLogs("pp-project", "logs", 0, end, "", 10)
	if err != nil || len(gl.LogGroups) != 0 || next3 != end {
		t.Fatalf("PullLogs at the end = %v, next %q, %v; want nothing and the same cursor", gl, next3, err)
	}
	// end_cursor stops before it.
	gl, _, err = c.PullLogs("pp-project", "logs", 0, begin, next, 10)
	if err != nil || len(gl.LogGroups) != 1 {
		t.Fatalf("PullLogs up to end_cursor = %v, %v", gl, err)
	}
}

func TestSDKHashKeyRoute(t *testing.T) {
	c := sdkClient(t, startServer(t, brokertest.Open(t, t.TempDir())), testAK, testSecret)
	setUp(t, c, "hash-project", "routed", 4)
	keys := map[string]int{"00000000000000000000000000000000": 0, "3fffffffffffffffffffffffffffffff": 0, "40000000000000000000000000000000": 1,
		"9": 2, "c0": 3, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF": 3}
	for key, shard := range keys {
		k := key
		g := logGroup(shard, 1)
		g.Topic = proto.String(key)
		if err := c.PostLogStoreLogsV2("hash-project", "routed", &sls.PostLogStoreLogsRequest{LogGroup: g, HashKey: &k, CompressType: sls.Compress_ZSTD}); err != nil {
			t.Fatalf("key %s: %v", key, err)
		}
	}
	got := map[string]int{}
	for shard := range 4 {
		for _, g := range pullShard(t, c, "hash-project", "routed", shard) {
			got[g.GetTopic()] = shard
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(keys) {
		t.Fatalf("key → shard %v, want %v", got, keys)
	}
	bad := "not-hex"
	err := c.PostLogStoreLogs("hash-project", "routed", logGroup(0, 1), &bad)
	if e := slsError(t, err); e.Code != "ParameterInvalid" || e.HTTPCode != 400 {
		t.Fatalf("bad hash key: %v", err)
	}
}

func TestSDKCursorsByTime(t *testing.T) {
	c := sdkClient(t, startServer(t, brokertest.Open(t, t.TempDir())), testAK, testSecret)
	setUp(t, c, "time-project", "one", 1)
	empty, _ := c.GetCursor("time-project", "one", 0, "begin")
	if end, _ := c.GetCursor("time-project", "one", 0, "end"); end != empty {
		t.Fatalf("empty shard: begin %q, end %q", empty, end)
	}
	before := time.Now().Add(-time.Hour).Unix()
	for i := range 3 {
		if err := c.PutLogs("time-project", "one", logGroup(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	begin, _ := c.GetCursor("time-project", "one", 0, "begin")
	end, _ := c.GetCursor("time-project", "one", 0, "end")
	if begin != empty || begin == end {
		t.Fatalf("begin %q (empty shard's %q), end %q", begin, empty, end)
	}
	for _, tc := range []struct {
		from string
		want string
	}{
		{strconv.FormatInt(before, 10), begin},
		{"0", begin},
		{strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10), end},
	} {
		if got, err := c.GetCursor("time-project", "one", 0, tc.from); err != nil || got != tc.want {
			t.Errorf("GetCursor(from=%s) = %q, %v; want %q", tc.from, got, err, tc.want)
		}
	}
	at, err := c.GetCursorTime("time-project", "one", 0, begin)
	if err != nil || at.Unix() < before || at.After(time.Now().Add(time.Second)) {
		t.Fatalf("GetCursorTime(begin) = %v, %v", at, err)
	}
	// The cursor for the first group's own receive time is that group's.
	if got, err := c.GetCursor("time-project", "one", 0, strconv.FormatInt(at.Unix(), 10)); err != nil || got != begin {
		t.Fatalf("GetCursor(from=its time) = %q, %v; want %q", got, err, begin)
	}
}

// TestSDKRestart reads back after the broker restarts on the same data.
func TestSDKRestart(t *testing.T) {
	dir := t.TempDir()
	b := brokertest.Open(t, dir)
	c := sdkClient(t, startServer(t, b), testAK, testSecret)
	setUp(t, c, "restart-project", "kept", 2)
	want := []*sls.LogGroup{logGroup(0, 2), logGroup(1, 2)}
	for _, g := range want {
		if err := c.PutLogs("restart-project", "kept", g); err != nil {
			t.Fatal(err)
		}
	}
	cursors := map[int]string{}
	for shard := range 2 {
		cursors[shard], _ = c.GetCursor("restart-project", "kept", shard, "begin")
	}
	b.Close(t.Context())

	c = sdkClient(t, startServer(t, brokertest.Open(t, dir)), testAK, testSecret)
	if ls, err := c.GetLogStore("restart-project", "kept"); err != nil || ls.ShardCount != 2 {
		t.Fatalf("after restart GetLogStore = %+v, %v", ls, err)
	}
	for shard := range 2 {
		gl, _, err := c.PullLogs("restart-project", "kept", shard, cursors[shard], "", 10)
		if err != nil || len(gl.LogGroups) != 1 {
			t.Fatalf("after restart shard %d: %v, %v", shard, gl, err)
		}
		if got := marshal(t, gl.LogGroups[0]); !bytes.Equal(got, marshal(t, want[shard])) {
			t.Fatalf("after restart shard %d holds a different group", shard)
		}
	}
	if err := c.PutLogs("restart-project", "kept", logGroup(2, 1)); err != nil {
		t.Fatalf("writing after restart: %v", err)
	}
}
