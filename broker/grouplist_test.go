package broker

import (
	"errors"
	"slices"
	"testing"
)

// TestGroupByName: every operation that names a group takes its name as
// well as its id, and a name never shadows another group's id.
func TestGroupByName(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Group(ctx, "billing"); err != nil || got.ID != g.ID {
		t.Fatalf("by name: %+v %v", got, err)
	}
	if _, err := b.Group(ctx, "nobody_here"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := b.CreateGroup(ctx, g.ID); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("another group's id as a name: %v", err)
	}
	if _, err := b.CreateGroup(ctx, DefaultGroupID); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("DEFAULT_GROUP as a name: %v", err)
	}
	if err := b.SetSubscription(ctx, "pkN", Subscription{Groups: []string{"billing", g.ID}}); err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscription(ctx, "pkN")
	if err != nil || !slices.Equal(sub.Groups, []string{g.ID}) {
		t.Fatalf("subscription stores ids once: %+v %v", sub, err)
	}
	if err := b.DeleteGroup(ctx, "billing"); !errors.Is(err, ErrGroupInUse) {
		t.Fatalf("delete by name, subscribed: %v", err)
	}
	if _, err := b.GroupStats(ctx, "billing"); err != nil {
		t.Fatalf("stats by name: %v", err)
	}
	if err := b.Clear(ctx, "billing"); err != nil {
		t.Fatalf("clear by name: %v", err)
	}
	if err := b.DeleteSubscription(ctx, "pkN"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteGroup(ctx, "billing"); err != nil {
		t.Fatalf("delete by name: %v", err)
	}
	if _, err := b.Group(ctx, g.ID); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("deleted by name, still there: %v", err)
	}
}

func TestRenameGroup(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	a, _ := b.CreateGroup(ctx, "alpha")
	if _, err := b.CreateGroup(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref, name string
		wantErr   error
	}{
		{"alpha", "beta", ErrGroupExists},
		{"alpha", "no good", ErrInvalidGroupName},
		{DefaultGroupID, "other", ErrDefaultGroup},
		{"missing", "gamma", ErrGroupNotFound},
		{"alpha", "alpha", nil},
		{a.ID, "gamma", nil},
	} {
		_, err := b.RenameGroup(ctx, tc.ref, tc.name)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("rename %s to %s: %v, want %v", tc.ref, tc.name, err, tc.wantErr)
		}
	}
	g, err := b.Group(ctx, "gamma")
	if err != nil || g.ID != a.ID || !g.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("renamed: %+v %v (was %+v)", g, err, a)
	}
	if _, err := b.Group(ctx, "alpha"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("old name still answers: %v", err)
	}
}

func TestListGroups(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	for _, n := range []string{"sensor_a", "sensor_b", "Sensor_c", "pumps"} {
		if _, err := b.CreateGroup(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	names := func(p GroupPage) []string {
		var out []string
		for _, g := range p.Groups {
			out = append(out, g.Name)
		}
		return out
	}
	for _, tc := range []struct {
		q         GroupQuery
		want      []string
		total     int
		pageCount int
	}{
		{GroupQuery{}, []string{DefaultGroupID, "sensor_a", "sensor_b", "Sensor_c", "pumps"}, 5, 1},
		{GroupQuery{PageSize: 2, Page: 2}, []string{"sensor_b", "Sensor_c"}, 5, 3},
		{GroupQuery{PageSize: 2, Page: 3}, []string{"pumps"}, 5, 3},
		{GroupQuery{PageSize: 2, Page: 9}, nil, 5, 3},
		{GroupQuery{Name: "sensor"}, nil, 0, 0},
		{GroupQuery{Name: "sensor", Fuzzy: true}, []string{"sensor_a", "sensor_b", "Sensor_c"}, 3, 1},
		{GroupQuery{Name: "pumps"}, []string{"pumps"}, 1, 1},
	} {
		p, err := b.ListGroups(ctx, tc.q)
		if err != nil || !slices.Equal(names(p), tc.want) || p.Total != tc.total || p.PageCount != tc.pageCount {
			t.Errorf("%+v: %v total %d pages %d, %v; want %v %d %d", tc.q, names(p), p.Total, p.PageCount, err, tc.want, tc.total, tc.pageCount)
		}
	}
	for _, q := range []GroupQuery{{PageSize: 1001}, {PageSize: -1}, {Page: -1}} {
		if _, err := b.ListGroups(ctx, q); !errors.Is(err, ErrInvalidPage) {
			t.Errorf("%+v: %v", q, err)
		}
	}
}
