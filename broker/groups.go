package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultGroupID is the group that always exists, cannot be deleted and
// receives every device message.
const DefaultGroupID = "DEFAULT_GROUP"

// Group is a consumer group.
type Group struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// ValidateGroupName checks the vendor's rule: 4–30 characters of letters,
// digits, '_' and CJK, a CJK character counting 2.
func ValidateGroupName(name string) error {
	n := 0
	for _, r := range name {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'):
			n++
		case unicode.Is(unicode.Han, r):
			n += 2
		default:
			return fmt.Errorf("%w: %s contains %q; use letters, digits, '_' or Chinese characters", ErrInvalidGroupName, quote(name), r)
		}
	}
	if n < 4 || n > 30 {
		return fmt.Errorf("%w: %s is %d characters long (a Chinese character counts 2); it must be 4 to 30", ErrInvalidGroupName, quote(name), n)
	}
	return nil
}

// newGroupID makes an id shaped like the vendor's: 20 random letters and
// digits followed by "000100".
func newGroupID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b) + "000100"
}

func (b *Broker) ensureDefaultGroup(ctx context.Context) error {
	_, err := b.Group(ctx, DefaultGroupID)
	if errors.Is(err, ErrGroupNotFound) {
		err = b.putGroup(ctx, Group{ID: DefaultGroupID, Name: DefaultGroupID, CreatedAt: time.Now().UTC()}, true)
		if errors.Is(err, jetstream.ErrKeyExists) {
			err = nil // another node of the cluster made it first
		}
	}
	if err != nil {
		return err
	}
	return b.syncConsumer(ctx, DefaultGroupID)
}

// CreateGroup creates a consumer group named name.
func (b *Broker) CreateGroup(ctx context.Context, name string) (Group, error) {
	if err := ValidateGroupName(name); err != nil {
		return Group{}, err
	}
	groups, err := b.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	if len(groups) >= b.cfg.MaxGroups {
		return Group{}, fmt.Errorf("%w: there are already %d groups (the limit is %d)", ErrTooManyGroups, len(groups), b.cfg.MaxGroups)
	}
	if err := nameTaken(groups, name, ""); err != nil {
		return Group{}, err
	}
	g := Group{ID: newGroupID(), Name: name, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := b.putGroup(ctx, g, true); err != nil {
		return Group{}, err
	}
	if err := b.syncConsumer(ctx, g.ID); err != nil {
		return Group{}, err
	}
	// A new group starts at the end of the stream: it receives what arrives
	// after it is subscribed, not the retained history.
	if err := b.Reset(ctx, g.ID, Position{Latest: true}); err != nil {
		return Group{}, err
	}
	return g, nil
}

// nameTaken refuses name when a group other than self has it as its name
// or its id: everywhere a group is named, either may be used, so neither
// may be ambiguous.
func nameTaken(groups []Group, name, self string) error {
	for _, g := range groups {
		if g.ID != self && (g.Name == name || g.ID == name) {
			return fmt.Errorf("%w: %q (group %s)", ErrGroupExists, name, g.ID)
		}
	}
	return nil
}

// RenameGroup gives group ref (an id or a name) a new name; its id stays.
func (b *Broker) RenameGroup(ctx context.Context, ref, newName string) (Group, error) {
	if err := ValidateGroupName(newName); err != nil {
		return Group{}, err
	}
	g, err := b.Group(ctx, ref)
	if err != nil {
		return Group{}, err
	}
	if g.ID == DefaultGroupID {
		return Group{}, fmt.Errorf("%w: it cannot be renamed either", ErrDefaultGroup)
	}
	if g.Name == newName {
		return g, nil
	}
	groups, err := b.Groups(ctx)
	if err != nil {
		return Group{}, err
	}
	if err := nameTaken(groups, newName, g.ID); err != nil {
		return Group{}, err
	}
	g.Name = newName
	if err := b.putGroup(ctx, g, false); err != nil {
		return Group{}, err
	}
	return g, nil
}

func (b *Broker) putGroup(ctx context.Context, g Group, create bool) error {
	data, _ := json.Marshal(g)
	err := b.settle(ctx, func(ctx context.Context) error {
		if !create {
			_, err := b.e().groups.Put(ctx, g.ID, data)
			return err
		}
		_, err := b.e().groups.Create(ctx, g.ID, data)
		if errors.Is(err, jetstream.ErrKeyExists) && b.stored(ctx, g.ID, data) {
			return nil // an earlier attempt was stored, its answer lost
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("storing group %s: %w", g.ID, err)
	}
	return nil
}

// stored reports whether the groups bucket holds exactly data under id.
func (b *Broker) stored(ctx context.Context, id string, data []byte) bool {
	e, err := b.e().groups.Get(ctx, id)
	return err == nil && bytes.Equal(e.Value(), data)
}

// Group returns the group whose id is ref or, when none has that id, the
// one whose name is ref.
func (b *Broker) Group(ctx context.Context, ref string) (Group, error) {
	g, err := b.groupByID(ctx, ref)
	if !errors.Is(err, ErrGroupNotFound) || !isGroupName(ref) {
		return g, err
	}
	groups, lerr := b.Groups(ctx)
	if lerr != nil {
		return Group{}, lerr
	}
	for _, g := range groups {
		if g.Name == ref {
			return g, nil
		}
	}
	return Group{}, fmt.Errorf("%w: no group has the id or name %s", ErrGroupNotFound, quote(ref))
}

// isGroupName reports whether ref could be a group's name, so that a
// lookup of something else (an AMQP address, a bad id) skips the scan.
func isGroupName(ref string) bool { return ValidateGroupName(ref) == nil }

func (b *Broker) groupByID(ctx context.Context, id string) (Group, error) {
	if b.isClosed() {
		return Group{}, ErrClosed
	}
	if err := checkGroupID(id); err != nil {
		return Group{}, err
	}
	e, err := settled(b, ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return b.e().groups.Get(ctx, id) })
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Group{}, fmt.Errorf("%w: %q", ErrGroupNotFound, id)
	}
	if err != nil {
		return Group{}, fmt.Errorf("reading group %s: %w", id, err)
	}
	var g Group
	if err := json.Unmarshal(e.Value(), &g); err != nil {
		return Group{}, fmt.Errorf("group %s is corrupt: %w", id, err)
	}
	return g, nil
}

// Groups lists every group, DEFAULT_GROUP first, then by creation time.
func (b *Broker) Groups(ctx context.Context) ([]Group, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	ids, err := b.groupIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []Group
	for _, id := range ids {
		g, err := b.groupByID(ctx, id)
		if errors.Is(err, ErrGroupNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y Group) int {
		switch {
		case x.ID == DefaultGroupID:
			return -1
		case y.ID == DefaultGroupID:
			return 1
		}
		return x.CreatedAt.Compare(y.CreatedAt)
	})
	return out, nil
}

// groupIDs lists the keys of the groups bucket. The listing is read inside
// each attempt: it stops when the attempt's context ends.
func (b *Broker) groupIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := b.settle(ctx, func(ctx context.Context) error {
		lister, err := b.e().groups.ListKeys(ctx)
		if err != nil {
			return err
		}
		ids = ids[:0]
		for id := range lister.Keys() {
			ids = append(ids, id)
		}
		return ctx.Err() // the listing stops short when ctx ends
	})
	if err != nil {
		return nil, fmt.Errorf("listing the groups: %w", err)
	}
	return ids, nil
}

// DeleteGroup deletes group ref (an id or a name), refusing DEFAULT_GROUP
// and groups that are still subscribed to a product.
func (b *Broker) DeleteGroup(ctx context.Context, ref string) error {
	if ref == DefaultGroupID {
		return ErrDefaultGroup
	}
	g, err := b.Group(ctx, ref)
	if err != nil {
		return err
	}
	if g.ID == DefaultGroupID {
		return ErrDefaultGroup
	}
	id := g.ID
	products, err := b.productsOf(ctx, id)
	if err != nil {
		return err
	}
	if len(products) > 0 {
		return fmt.Errorf("%w: remove it from the subscriptions of %s first", ErrGroupInUse, strings.Join(products, ", "))
	}
	b.stopRuntime(consumerName(id))
	err = b.settle(ctx, func(ctx context.Context) error { return b.e().stream.DeleteConsumer(ctx, consumerName(id)) })
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("deleting group %s: %w", id, err)
	}
	if err := b.dropRule(ctx, consumerName(id)); err != nil {
		// A group made again gets a new id: the rule is only left over.
		b.log.Warn().Err(err).Str("group", id).Msg("the group's per-partition reset rule was not deleted")
	}
	if err := b.settle(ctx, func(ctx context.Context) error { return b.e().groups.Delete(ctx, id) }); err != nil {
		return fmt.Errorf("deleting group %s: %w", id, err)
	}
	return nil
}
