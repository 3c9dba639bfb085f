package broker

import (
	"context"
	"fmt"
	"strings"
)

// MaxPageSize is the largest page of a group listing (the platform's).
const MaxPageSize = 1000

// GroupQuery selects a page of the groups: those named Name (all when it
// is empty), or whose name contains it with Fuzzy. Page counts from 1;
// 0 means 1, and a PageSize of 0 means MaxPageSize.
type GroupQuery struct {
	Name     string
	Fuzzy    bool
	Page     int
	PageSize int
}

// GroupPage is one page of a listing and where it stands in the whole.
type GroupPage struct {
	Groups    []Group
	Total     int // groups matching the query, on every page
	Page      int
	PageSize  int
	PageCount int
}

// ListGroups answers a page of the groups matching q, in the order of
// Groups. A page past the last is empty, not an error.
func (b *Broker) ListGroups(ctx context.Context, q GroupQuery) (GroupPage, error) {
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PageSize == 0 {
		q.PageSize = MaxPageSize
	}
	if q.Page < 1 || q.PageSize < 1 || q.PageSize > MaxPageSize {
		return GroupPage{}, fmt.Errorf("%w: page %d of size %d; the page counts from 1 and its size is 1 to %d", ErrInvalidPage, q.Page, q.PageSize, MaxPageSize)
	}
	all, err := b.Groups(ctx)
	if err != nil {
		return GroupPage{}, err
	}
	var match []Group
	for _, g := range all {
		if q.matches(g.Name) {
			match = append(match, g)
		}
	}
	p := GroupPage{Total: len(match), Page: q.Page, PageSize: q.PageSize, PageCount: (len(match) + q.PageSize - 1) / q.PageSize}
	if from := (q.Page - 1) * q.PageSize; from < len(match) {
		p.Groups = match[from:min(from+q.PageSize, len(match))]
	}
	return p, nil
}

// matches compares case-insensitively when fuzzy, as a search box does.
func (q GroupQuery) matches(name string) bool {
	switch {
	case q.Name == "":
		return true
	case q.Fuzzy:
		return strings.Contains(strings.ToLower(name), strings.ToLower(q.Name))
	}
	return name == q.Name
}
