package kafka

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

// raw issues one request through a franz-go client and fails on a
// transport error.
func raw[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request) R {
	t.Helper()
	resp, err := cl.Request(ctxT(t, 10*time.Second), req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

func joinReq(group, member string) *kmsg.JoinGroupRequest {
	j := kmsg.NewPtrJoinGroupRequest()
	j.Group, j.MemberID, j.ProtocolType = group, member, "consumer"
	j.SessionTimeoutMillis, j.RebalanceTimeoutMillis = 3000, 3000 // room for a loaded machine between requests
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", []byte{0}
	j.Protocols = []kmsg.JoinGroupRequestProtocol{p}
	return j
}

// TestGroupProtocolByHand drives the coordinator with raw requests: a
// join, the errors for a wrong generation or member, the leader's
// assignment, commits inside and outside the protocol, a session expiring.
func TestGroupProtocolByHand(t *testing.T) {
	e := start(t)
	cl := e.client(t)
	jr := raw[*kmsg.JoinGroupResponse](t, cl, joinReq("gh", ""))
	if jr.ErrorCode != 0 || jr.Generation != 1 || jr.LeaderID != jr.MemberID || len(jr.Members) != 1 || *jr.Protocol != "range" {
		t.Fatalf("join %+v", jr)
	}
	me, gen := jr.MemberID, jr.Generation

	hb := func(member string, gen int32) int16 {
		h := kmsg.NewPtrHeartbeatRequest()
		h.Group, h.MemberID, h.Generation = "gh", member, gen
		return raw[*kmsg.HeartbeatResponse](t, cl, h).ErrorCode
	}
	if c := hb(me, gen+1); c != kerr.IllegalGeneration.Code {
		t.Fatalf("wrong generation: %d", c)
	}
	if c := hb("nobody", gen); c != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member: %d", c)
	}
	s := kmsg.NewPtrSyncGroupRequest()
	s.Group, s.MemberID, s.Generation = "gh", me, gen
	a := kmsg.NewSyncGroupRequestGroupAssignment()
	a.MemberID, a.MemberAssignment = me, []byte("mine")
	s.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{a}
	if sr := raw[*kmsg.SyncGroupResponse](t, cl, s); sr.ErrorCode != 0 || string(sr.MemberAssignment) != "mine" {
		t.Fatalf("sync %+v", sr)
	}
	if c := hb(me, gen); c != 0 {
		t.Fatalf("heartbeat: %d", c)
	}

	commit := func(member string, gen int32) int16 {
		c := kmsg.NewPtrOffsetCommitRequest()
		c.Group, c.MemberID, c.Generation = "gh", member, gen
		ct := kmsg.NewOffsetCommitRequestTopic()
		ct.Topic = "pkH"
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Partition, cp.Offset = 1, 42
		ct.Partitions = []kmsg.OffsetCommitRequestTopicPartition{cp}
		c.Topics = []kmsg.OffsetCommitRequestTopic{ct}
		return raw[*kmsg.OffsetCommitResponse](t, cl, c).Topics[0].Partitions[0].ErrorCode
	}
	if c := commit("", -1); c != kerr.UnknownMemberID.Code {
		t.Fatalf("an outside commit while the group has a member: %d", c)
	}
	if c := commit(me, gen); c != 0 {
		t.Fatalf("member's commit: %d", c)
	}
	// Without heartbeats the session (3 s) expires and the group empties.
	ctx := ctxT(t, 10*time.Second)
	for e.s.ActiveMembers("gh") != 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the silent member was not dropped")
		case <-time.After(20 * time.Millisecond): // polling the coordinator's state, not synchronising
		}
	}
	if c := commit("", -1); c != 0 {
		t.Fatalf("an outside commit of the empty group: %d", c)
	}
	of := kmsg.NewPtrOffsetFetchRequest()
	of.Group = "gh"
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic, ft.Partitions = "pkH", []int32{0, 1}
	of.Topics = []kmsg.OffsetFetchRequestTopic{ft}
	fr := raw[*kmsg.OffsetFetchResponse](t, cl, of)
	if p := fr.Topics[0].Partitions; p[0].Offset != -1 || p[1].Offset != 42 {
		t.Fatalf("offset fetch %+v", p)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Groups = []string{"gh"}
	if d := raw[*kmsg.DescribeGroupsResponse](t, cl, dg); d.Groups[0].State != "Empty" {
		t.Fatalf("describe %+v", d.Groups[0])
	}
	bad := joinReq("bad group", "")
	if jr := raw[*kmsg.JoinGroupResponse](t, cl, bad); jr.ErrorCode != kerr.InvalidGroupID.Code {
		t.Fatalf("invalid group: %d", jr.ErrorCode)
	}
	bad = joinReq("gh", "")
	bad.SessionTimeoutMillis = 1
	if jr := raw[*kmsg.JoinGroupResponse](t, cl, bad); jr.ErrorCode != kerr.InvalidSessionTimeout.Code {
		t.Fatalf("session timeout 1 ms: %d", jr.ErrorCode)
	}
}

func TestListOffsets(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	if _, err := e.b.CreateTopic(ctx, "lo", 2, ""); err != nil {
		t.Fatal(err)
	}
	a, err := e.b.Produce(ctx, "lo", 0, []broker.KafkaRecord{{Value: []byte("a")}})
	if err != nil {
		t.Fatal(err)
	}
	mid := time.Now()
	b, err := e.b.Produce(ctx, "lo", 1, []broker.KafkaRecord{{Value: []byte("b")}})
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	list := func(ts int64) kmsg.ListOffsetsResponseTopicPartition {
		r := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "lo"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = 1, ts
		rt.Partitions = []kmsg.ListOffsetsRequestTopicPartition{rp}
		r.Topics = []kmsg.ListOffsetsRequestTopic{rt}
		return raw[*kmsg.ListOffsetsResponse](t, cl, r).Topics[0].Partitions[0]
	}
	if p := list(-2); p.ErrorCode != 0 || p.Offset != a {
		t.Fatalf("earliest %+v, want %d", p, a)
	}
	if p := list(-1); p.Offset != b+1 {
		t.Fatalf("latest %+v, want %d", p, b+1)
	}
	if p := list(mid.UnixMilli()); p.Offset > b || p.Offset <= a-1 {
		t.Fatalf("by time %+v, want in (%d, %d]", p, a, b)
	}
	if p := list(time.Now().Add(time.Hour).UnixMilli()); p.Offset != -1 {
		t.Fatalf("after the last record %+v", p)
	}
}

// TestGroupKeepsWhatMembersSent: a member's protocol metadata and
// assignment are read out of its connection's buffer; the group answers
// them unchanged after that connection's next request overwrote it.
func TestGroupKeepsWhatMembersSent(t *testing.T) {
	e := start(t)
	cl := e.client(t)
	meta, given := bytes.Repeat([]byte("M"), 64), bytes.Repeat([]byte("a"), 64)
	sync := func(member string, gen int32, assignment []byte) int16 {
		s := kmsg.NewPtrSyncGroupRequest()
		s.Group, s.MemberID, s.Generation = "gk", member, gen
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID, a.MemberAssignment = member, assignment
		s.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{a}
		return raw[*kmsg.SyncGroupResponse](t, cl, s).ErrorCode
	}
	// A large request first: the connection's buffer grows to hold it and
	// the smaller requests after it are read into the same bytes.
	sync("nobody", 1, bytes.Repeat([]byte("y"), 1024))
	j := joinReq("gk", "")
	j.Protocols[0].Metadata = meta
	jr := raw[*kmsg.JoinGroupResponse](t, cl, j)
	if jr.ErrorCode != 0 {
		t.Fatalf("join %+v", jr)
	}
	if c := sync(jr.MemberID, jr.Generation, given); c != 0 {
		t.Fatalf("sync: %d", c)
	}
	// Refused, but read: it fills the connection's buffer with other bytes.
	if c := sync(jr.MemberID, jr.Generation+1, bytes.Repeat([]byte("z"), 1024)); c != kerr.IllegalGeneration.Code {
		t.Fatalf("sync of a wrong generation: %d", c)
	}
	d := kmsg.NewPtrDescribeGroupsRequest()
	d.Groups = []string{"gk"}
	dr := raw[*kmsg.DescribeGroupsResponse](t, cl, d)
	if len(dr.Groups) != 1 || len(dr.Groups[0].Members) != 1 {
		t.Fatalf("describe %+v", dr)
	}
	m := dr.Groups[0].Members[0]
	if !bytes.Equal(m.ProtocolMetadata, meta) || !bytes.Equal(m.MemberAssignment, given) {
		t.Fatalf("the group keeps metadata %q and assignment %q; want %q and %q", m.ProtocolMetadata, m.MemberAssignment, meta, given)
	}
}
