package broker

// temporary: replaced by main's ResolveGroup at merge

import (
	"context"
	"errors"
	"fmt"
)

// ResolveGroup returns the group whose id, or else whose name, is ref.
func (b *Broker) ResolveGroup(ctx context.Context, ref string) (Group, error) {
	g, err := b.Group(ctx, ref)
	if !errors.Is(err, ErrGroupNotFound) {
		return g, err
	}
	groups, err := b.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	for _, g := range groups {
		if g.Name == ref {
			return g, nil
		}
	}
	return Group{}, fmt.Errorf("%w: no group has the id or name %s", ErrGroupNotFound, quote(ref))
}
