package console_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/amqpemu/amqpemu/broker"
)

type groupOut struct {
	ID, Name string
}

type pageOut struct {
	Groups                           []groupOut
	Total, Page, PageSize, PageCount int
}

// TestGroupsByNameRenameAndPages: the REST API takes a group's name where
// it takes its id, renames groups and pages its listing.
func TestGroupsByNameRenameAndPages(t *testing.T) {
	e := newEnv(t)
	var g groupOut
	e.want(e.do("POST", "/api/v1/groups", map[string]string{"name": "orders"}), http.StatusCreated, &g)
	e.want(e.do("POST", "/api/v1/groups", map[string]string{"name": "orders_eu"}), http.StatusCreated, nil)

	var byName groupOut
	e.want(e.do("GET", "/api/v1/groups/orders", nil), http.StatusOK, &byName)
	if byName.ID != g.ID {
		t.Fatalf("by name: %+v, want id %s", byName, g.ID)
	}
	e.want(e.do("GET", "/api/v1/groups/orders/status", nil), http.StatusOK, nil)
	e.want(e.do("POST", "/api/v1/groups/orders/clear", nil), http.StatusNoContent, nil)

	var sub struct{ Groups []string }
	e.want(e.do("PUT", "/api/v1/products/pkR/subscription", map[string]any{"groups": []string{"orders"}}), http.StatusOK, &sub)
	if !slices.Equal(sub.Groups, []string{g.ID}) {
		t.Fatalf("subscription by name stored %v, want the id", sub.Groups)
	}
	var all struct {
		Subscriptions map[string]struct{ Groups, Kinds []string }
		KnownKinds    []string
	}
	e.want(e.do("GET", "/api/v1/subscriptions", nil), http.StatusOK, &all)
	if s := all.Subscriptions["pkR"]; !slices.Equal(s.Groups, []string{g.ID}) || !slices.Equal(s.Kinds, []string{"data"}) {
		t.Fatalf("listed subscriptions: %+v", all)
	}
	if !slices.Equal(all.KnownKinds, broker.Kinds) {
		t.Errorf("knownKinds %v, want %v", all.KnownKinds, broker.Kinds)
	}
	e.wantError(e.do("DELETE", "/api/v1/groups/orders", nil), http.StatusConflict, "GroupInUse")

	var renamed groupOut
	e.want(e.do("PATCH", "/api/v1/groups/orders", map[string]string{"name": "invoices"}), http.StatusOK, &renamed)
	if renamed.ID != g.ID || renamed.Name != "invoices" {
		t.Fatalf("renamed: %+v", renamed)
	}
	e.wantError(e.do("GET", "/api/v1/groups/orders", nil), http.StatusNotFound, "GroupNotFound")
	e.wantError(e.do("PATCH", "/api/v1/groups/invoices", map[string]string{"name": "orders_eu"}), http.StatusConflict, "GroupExists")
	e.wantError(e.do("PATCH", "/api/v1/groups/DEFAULT_GROUP", map[string]string{"name": "other"}), http.StatusConflict, "DefaultGroup")
	e.wantError(e.do("PATCH", "/api/v1/groups/invoices", map[string]string{}), http.StatusBadRequest, "InvalidArgument")
	e.wantError(e.do("PATCH", "/api/v1/groups/invoices", map[string]string{"name": "x"}), http.StatusBadRequest, "InvalidGroupName")

	var p pageOut
	e.want(e.do("GET", "/api/v1/groups?pageSize=2&page=2", nil), http.StatusOK, &p)
	if len(p.Groups) != 1 || p.Total != 3 || p.PageCount != 2 || p.Page != 2 || p.PageSize != 2 {
		t.Fatalf("page 2 of 2: %+v", p)
	}
	e.want(e.do("GET", "/api/v1/groups?name=ORDERS&fuzzy=true", nil), http.StatusOK, &p)
	if len(p.Groups) != 1 || p.Groups[0].Name != "orders_eu" {
		t.Fatalf("fuzzy: %+v", p)
	}
	e.want(e.do("GET", "/api/v1/groups?name=invoices", nil), http.StatusOK, &p)
	if len(p.Groups) != 1 || p.Groups[0].ID != g.ID {
		t.Fatalf("exact: %+v", p)
	}
	for _, q := range []string{"pageSize=0", "pageSize=1001", "page=0", "page=x"} {
		e.wantError(e.do("GET", "/api/v1/groups?"+q, nil), http.StatusBadRequest, "InvalidPageParams")
	}
	e.wantError(e.do("GET", "/api/v1/groups?fuzzy=yes", nil), http.StatusBadRequest, "InvalidArgument")
}
