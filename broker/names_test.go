package broker

import (
	"errors"
	"strings"
	"testing"
)

// A name of thousands of characters once reached a NATS protocol line over
// the server's control line limit: the server closed the broker's
// connection and every later call failed until restart.
func TestLongNamesRefusedEngineSurvives(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	long := strings.Repeat("a", 5000)
	calls := []struct {
		name string
		call func() error
	}{
		{"Group", func() error { _, err := b.Group(ctx, long); return err }},
		{"Clear", func() error { return b.Clear(ctx, long) }},
		{"Reset", func() error { return b.Reset(ctx, long, Position{Earliest: true}) }},
		{"GroupStats", func() error { _, err := b.GroupStats(ctx, long); return err }},
		{"Backlog", func() error { _, err := b.Backlog(ctx, long); return err }},
		{"DeleteGroup", func() error { return b.DeleteGroup(ctx, long) }},
		{"Join", func() error { _, err := b.Join(ctx, long, MemberInfo{}, make(inbox, 1)); return err }},
		{"Subscription", func() error { _, err := b.Subscription(ctx, long); return err }},
		{"SetSubscription", func() error { return b.SetSubscription(ctx, long, Subscription{Groups: []string{DefaultGroupID}}) }},
		{"SetSubscription group", func() error { return b.SetSubscription(ctx, "pk", Subscription{Groups: []string{long}}) }},
		{"DeleteSubscription", func() error { return b.DeleteSubscription(ctx, long) }},
		{"Publish product", func() error { _, err := b.Publish(ctx, DeviceMessage{ProductKey: long, DeviceName: "d"}); return err }},
		{"Publish device", func() error { _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk", DeviceName: long}); return err }},
		{"Publish topic", func() error {
			_, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk", DeviceName: "d", Topic: "/" + long})
			return err
		}},
		{"JoinQueue", func() error { _, err := b.JoinQueue(ctx, long, MemberInfo{}, make(inbox, 1)); return err }},
		{"PublishQueue", func() error { return b.PublishQueue(ctx, long, []byte("x")) }},
		{"CreateGroup", func() error { _, err := b.CreateGroup(ctx, long); return err }},
	}
	for _, c := range calls {
		err := c.call()
		if err == nil {
			t.Errorf("%s with a 5000-character name: no error", c.name)
			continue
		}
		if !errors.Is(err, ErrInvalidName) && !errors.Is(err, ErrInvalidGroupName) {
			t.Errorf("%s: %.200v, want a refusal of the name", c.name, err)
		}
		if n := len(err.Error()); n > 300 {
			t.Errorf("%s: the error is %d bytes long: it echoes the whole name", c.name, n)
		}
	}
	// The engine connection is intact: everything still works.
	if _, err := b.Groups(ctx); err != nil {
		t.Fatalf("Groups after the long names: %v", err)
	}
	if _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk", DeviceName: "d"}); err != nil {
		t.Fatalf("Publish after the long names: %v", err)
	}
	if !b.Healthy() {
		t.Fatal("broker unhealthy after the long names")
	}
}

func TestNamesWithSubjectCharacters(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	for _, id := range []string{"a.b", "a*", ">", "a b", "a\tb", "x\x00y", "\xff\xfe", "日本"} {
		_, err := b.Group(ctx, id)
		if !errors.Is(err, ErrGroupNotFound) || !errors.Is(err, ErrInvalidName) && id != "日本" { // 日本 may be a name
			t.Errorf("Group(%q): %v, want not found and invalid", id, err)
		}
		if _, err := b.Publish(ctx, DeviceMessage{ProductKey: id, DeviceName: "d"}); !errors.Is(err, ErrInvalidName) && id != "a.b" && id != "日本" {
			t.Errorf("Publish product %q: %v, want ErrInvalidName", id, err)
		}
	}
}
