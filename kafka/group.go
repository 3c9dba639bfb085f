package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

// The classic group protocol, as a Kafka group coordinator runs it:
//
//	Empty ──join──▶ PreparingRebalance ──every member joined, or the
//	rebalance timeout──▶ CompletingRebalance ──leader's SyncGroup──▶ Stable
//
// A join, a leave or a member whose session expires (no heartbeat within
// its session timeout) moves a non-empty group back to PreparingRebalance:
// heartbeats answer REBALANCE_IN_PROGRESS until each member joins again;
// members that do not within the rebalance timeout are dropped. The leader
// (a client) computes the assignment; the coordinator hands it out.
//
// The first join of an empty group completes at once (Kafka waits
// group.initial.rebalance.delay.ms, 3 s, for more members): later members
// join through a rebalance, as they would after that delay.
//
// Every field below is guarded by coordinator.mu, the package's only lock;
// timers' callbacks take it. No lock is held while a request waits for its
// answer: the answer comes on a channel of one, so that whoever completes a
// phase never blocks on a member whose connection went away.

type groupState int

const (
	stateEmpty groupState = iota
	statePreparing
	stateCompleting
	stateStable
)

func (s groupState) String() string {
	return [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"}[s]
}

type coordinator struct {
	s       *Server
	mu      sync.Mutex
	groups  map[string]*group
	stopped bool
}

type group struct {
	name         string
	state        groupState
	generation   int32
	protocolType string
	protocol     string
	leader       string
	members      map[string]*member
	joinOrder    []string    // member ids by first join, to pick a leader
	rebalance    *time.Timer // while PreparingRebalance
}

type member struct {
	id, clientID, host string
	instanceID         *string
	session, rebalance time.Duration
	protocols          []kmsg.JoinGroupRequestProtocol
	assignment         []byte
	joining            chan *kmsg.JoinGroupResponse // while it waits in JoinGroup
	syncing            chan syncAnswer              // while it waits in SyncGroup
	expiry             *time.Timer                  // its session
}

// ownProtocols copies a JoinGroup request's protocols: their metadata
// bytes are a slice of the connection's read buffer, which its next
// request overwrites while the group still keeps them for other members.
func ownProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Metadata = bytes.Clone(out[i].Metadata)
	}
	return out
}

type syncAnswer struct {
	code       int16
	assignment []byte
}

func newCoordinator(s *Server) *coordinator {
	return &coordinator{s: s, groups: map[string]*group{}}
}

func (co *coordinator) stop() {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.stopped = true
	for _, g := range co.groups {
		if g.rebalance != nil {
			g.rebalance.Stop()
		}
		for _, m := range g.members {
			m.expiry.Stop()
		}
	}
}

func (co *coordinator) members(name string) int {
	co.mu.Lock()
	defer co.mu.Unlock()
	if g := co.groups[name]; g != nil {
		return len(g.members)
	}
	return 0
}

func newMemberID(clientID string) string {
	if len(clientID) > 64 { // the client's to choose: keep ids short
		clientID = clientID[:64]
	}
	var b [16]byte
	rand.Read(b[:])
	return clientID + "-" + hex.EncodeToString(b[:])
}

func (co *coordinator) join(ctx context.Context, c *conn, h header, r *kmsg.JoinGroupRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	fail := func(e *kerr.Error) kmsg.Response { resp.ErrorCode = e.Code; return resp }
	if broker.CheckKafkaName("group", r.Group) != nil {
		return fail(kerr.InvalidGroupID)
	}
	session := time.Duration(r.SessionTimeoutMillis) * time.Millisecond
	if session < co.s.cfg.MinSessionTimeout || session > co.s.cfg.MaxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout)
	}
	if len(r.Protocols) == 0 || r.ProtocolType == "" {
		return fail(kerr.InconsistentGroupProtocol)
	}
	if _, err := co.s.b.EnsureKafkaGroup(ctx, r.Group); err != nil {
		c.log.Warn().Err(err).Str("group", r.Group).Msg("kafka join")
		return fail(kerr.CoordinatorNotAvailable)
	}
	rebalance := session
	if r.Version >= 1 && r.RebalanceTimeoutMillis > 0 {
		rebalance = time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond
	}

	co.mu.Lock()
	if co.stopped {
		co.mu.Unlock()
		return fail(kerr.CoordinatorNotAvailable)
	}
	g := co.groups[r.Group]
	if g == nil {
		g = &group{name: r.Group, members: map[string]*member{}}
		co.groups[r.Group] = g
	}
	if len(g.members) > 0 && g.protocolType != r.ProtocolType {
		co.mu.Unlock()
		return fail(kerr.InconsistentGroupProtocol)
	}
	m := g.members[r.MemberID]
	switch {
	case r.MemberID == "":
		host, _, _ := splitHost(c.nc.RemoteAddr().String())
		m = &member{id: newMemberID(h.clientID), clientID: h.clientID, host: host}
		m.expiry = time.AfterFunc(time.Hour, func() { co.expire(g, m) })
		m.expiry.Stop()
		g.members[m.id] = m
		g.joinOrder = append(g.joinOrder, m.id)
	case m == nil:
		co.mu.Unlock()
		return fail(kerr.UnknownMemberID)
	}
	g.protocolType = r.ProtocolType
	m.instanceID, m.session, m.rebalance, m.protocols = r.InstanceID, session, rebalance, ownProtocols(r.Protocols)
	wait := make(chan *kmsg.JoinGroupResponse, 1)
	m.joining = wait
	m.expiry.Stop() // the rebalance timeout governs while it waits
	if g.state != statePreparing {
		co.prepare(g)
	}
	co.maybeComplete(g)
	co.mu.Unlock()

	select {
	case jr := <-wait:
		jr.Version = resp.Version
		return jr
	case <-ctx.Done():
		return fail(kerr.RebalanceInProgress)
	}
}

func splitHost(addr string) (string, string, error) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], nil
		}
	}
	return addr, "", nil
}

// prepare starts a rebalance: waiting syncs are told, and members that do
// not join again within the longest rebalance timeout are dropped.
func (co *coordinator) prepare(g *group) {
	g.state = statePreparing
	var longest time.Duration
	for _, m := range g.members {
		if m.syncing != nil {
			m.syncing <- syncAnswer{code: kerr.RebalanceInProgress.Code}
			m.syncing = nil
		}
		longest = max(longest, m.rebalance)
	}
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	g.rebalance = time.AfterFunc(longest, func() { co.rebalanceTimeout(g) })
}

func (co *coordinator) rebalanceTimeout(g *group) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.stopped || g.state != statePreparing {
		return
	}
	for id, m := range g.members {
		if m.joining == nil {
			co.remove(g, id)
		}
	}
	co.complete(g)
}

// maybeComplete ends the join phase once every member has joined.
func (co *coordinator) maybeComplete(g *group) {
	if g.state != statePreparing {
		return
	}
	for _, m := range g.members {
		if m.joining == nil {
			return
		}
	}
	co.complete(g)
}

// complete answers every waiting join with the new generation.
func (co *coordinator) complete(g *group) {
	if g.rebalance != nil {
		g.rebalance.Stop()
		g.rebalance = nil
	}
	if len(g.members) == 0 {
		g.state, g.leader, g.protocol = stateEmpty, "", ""
		return
	}
	if _, ok := g.members[g.leader]; !ok {
		g.leader = g.joinOrder[0]
	}
	g.protocol = co.choose(g)
	g.generation++
	g.state = stateCompleting
	var all []kmsg.JoinGroupResponseMember
	for _, id := range g.joinOrder {
		m := g.members[id]
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID, jm.InstanceID = m.id, m.instanceID
		for _, p := range m.protocols {
			if p.Name == g.protocol {
				jm.ProtocolMetadata = p.Metadata
			}
		}
		all = append(all, jm)
	}
	for _, m := range g.members {
		jr := kmsg.NewPtrJoinGroupResponse()
		jr.Generation, jr.LeaderID, jr.MemberID = g.generation, g.leader, m.id
		pt, p := g.protocolType, g.protocol
		jr.ProtocolType, jr.Protocol = &pt, &p
		if g.protocol == "" {
			jr.ErrorCode = kerr.InconsistentGroupProtocol.Code
		}
		if m.id == g.leader {
			jr.Members = all
		}
		if m.joining != nil {
			m.joining <- jr
			m.joining = nil
		}
		m.expiry.Reset(m.session)
	}
	if g.protocol == "" { // no protocol every member speaks: start over empty
		for id := range g.members {
			co.remove(g, id)
		}
		g.state = stateEmpty
	}
}

// choose picks the leader's first protocol that every member supports.
func (co *coordinator) choose(g *group) string {
	for _, p := range g.members[g.leader].protocols {
		all := true
		for _, m := range g.members {
			if !slices.ContainsFunc(m.protocols, func(q kmsg.JoinGroupRequestProtocol) bool { return q.Name == p.Name }) {
				all = false
				break
			}
		}
		if all {
			return p.Name
		}
	}
	return ""
}

// remove drops member id, answering what it waits for.
func (co *coordinator) remove(g *group, id string) {
	m := g.members[id]
	if m == nil {
		return
	}
	m.expiry.Stop()
	if m.joining != nil {
		jr := kmsg.NewPtrJoinGroupResponse()
		jr.ErrorCode = kerr.UnknownMemberID.Code
		m.joining <- jr
		m.joining = nil
	}
	if m.syncing != nil {
		m.syncing <- syncAnswer{code: kerr.UnknownMemberID.Code}
		m.syncing = nil
	}
	delete(g.members, id)
	g.joinOrder = slices.DeleteFunc(g.joinOrder, func(x string) bool { return x == id })
}

// membershipChanged rebalances after members left or died.
func (co *coordinator) membershipChanged(g *group) {
	if len(g.members) == 0 {
		if g.rebalance != nil {
			g.rebalance.Stop()
			g.rebalance = nil
		}
		g.state, g.leader, g.protocol = stateEmpty, "", ""
		return
	}
	if g.state != statePreparing {
		co.prepare(g)
	}
	co.maybeComplete(g)
}

func (co *coordinator) expire(g *group, m *member) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.stopped || g.members[m.id] != m || m.joining != nil {
		return
	}
	co.s.log.Info().Str("group", g.name).Str("member", m.id).Dur("session", m.session).Msg("kafka group member's session expired")
	co.remove(g, m.id)
	co.membershipChanged(g)
}

// lookup finds a member of the current generation, or the error code.
func (co *coordinator) lookup(name, id string, gen int32) (*group, *member, int16) {
	g := co.groups[name]
	if g == nil {
		return nil, nil, kerr.UnknownMemberID.Code
	}
	m := g.members[id]
	if m == nil {
		return g, nil, kerr.UnknownMemberID.Code
	}
	if gen != g.generation {
		return g, m, kerr.IllegalGeneration.Code
	}
	return g, m, 0
}

func (co *coordinator) sync(ctx context.Context, r *kmsg.SyncGroupRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
	co.mu.Lock()
	g, m, code := co.lookup(r.Group, r.MemberID, r.Generation)
	if code != 0 {
		co.mu.Unlock()
		resp.ErrorCode = code
		return resp
	}
	pt, p := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &p
	m.expiry.Reset(m.session)
	switch g.state {
	case statePreparing:
		co.mu.Unlock()
		resp.ErrorCode = kerr.RebalanceInProgress.Code
		return resp
	case stateStable:
		resp.MemberAssignment = m.assignment
		co.mu.Unlock()
		return resp
	}
	// CompletingRebalance: the leader's assignment completes it.
	if m.id == g.leader {
		given := map[string][]byte{}
		for _, a := range r.GroupAssignment {
			given[a.MemberID] = bytes.Clone(a.MemberAssignment) // kept past the request
		}
		for _, x := range g.members {
			x.assignment = given[x.id]
			if x.syncing != nil {
				x.syncing <- syncAnswer{assignment: x.assignment}
				x.syncing = nil
			}
		}
		g.state = stateStable
		resp.MemberAssignment = m.assignment
		co.mu.Unlock()
		return resp
	}
	wait := make(chan syncAnswer, 1)
	m.syncing = wait
	co.mu.Unlock()
	select {
	case a := <-wait:
		resp.ErrorCode, resp.MemberAssignment = a.code, a.assignment
	case <-ctx.Done():
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	}
	return resp
}

func (co *coordinator) heartbeat(r *kmsg.HeartbeatRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
	co.mu.Lock()
	defer co.mu.Unlock()
	g, m, code := co.lookup(r.Group, r.MemberID, r.Generation)
	if m != nil && m.joining == nil {
		m.expiry.Reset(m.session)
	}
	if code == 0 && g.state == statePreparing {
		code = kerr.RebalanceInProgress.Code
	}
	resp.ErrorCode = code
	return resp
}

func (co *coordinator) leave(r *kmsg.LeaveGroupRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
	ids := []string{r.MemberID}
	if r.Version >= 3 {
		ids = ids[:0]
		for _, m := range r.Members {
			ids = append(ids, m.MemberID)
		}
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[r.Group]
	changed := false
	for i, id := range ids {
		code := kerr.UnknownMemberID.Code
		if g != nil && g.members[id] != nil {
			co.remove(g, id)
			code, changed = 0, true
		}
		if r.Version >= 3 {
			lm := kmsg.NewLeaveGroupResponseMember()
			lm.MemberID, lm.InstanceID, lm.ErrorCode = id, r.Members[i].InstanceID, code
			resp.Members = append(resp.Members, lm)
		} else {
			resp.ErrorCode = code
		}
	}
	if changed {
		co.membershipChanged(g)
	}
	return resp
}

// checkCommit says whether an OffsetCommit may store offsets: from a
// member of the current generation, or from outside the group protocol
// (generation -1, as admin tools commit) while the group is empty.
func (co *coordinator) checkCommit(name, memberID string, gen int32) int16 {
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[name]
	if gen < 0 && memberID == "" {
		if g != nil && len(g.members) > 0 {
			return kerr.UnknownMemberID.Code
		}
		return 0
	}
	g, m, code := co.lookup(name, memberID, gen)
	if code == 0 && g.state == stateCompleting {
		code = kerr.RebalanceInProgress.Code
	}
	if m != nil && code == 0 && m.joining == nil {
		m.expiry.Reset(m.session)
	}
	return code
}

func (co *coordinator) describe(r *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, name := range r.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group, dg.State = name, "Dead"
		if g := co.groups[name]; g != nil {
			dg.State, dg.ProtocolType, dg.Protocol = g.state.String(), g.protocolType, g.protocol
			for _, id := range g.joinOrder {
				m := g.members[id]
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.host
				for _, p := range m.protocols {
					if p.Name == g.protocol {
						dm.ProtocolMetadata = p.Metadata
					}
				}
				dm.MemberAssignment = m.assignment
				dg.Members = append(dg.Members, dm)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (co *coordinator) list(r *kmsg.ListGroupsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	co.mu.Lock()
	defer co.mu.Unlock()
	for name, g := range co.groups {
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = name, g.protocolType, g.state.String(), "classic"
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}
