package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// apiSubscription is a product's subscription in the REST API's answers;
// groups are ids.
type apiSubscription struct {
	Groups []string        `json:"groups"`
	Kinds  []string        `json:"kinds"`
	Flags  map[string]bool `json:"subscribeFlags,omitempty"`
}

func subscriptionPath(product string) string {
	return "/api/v1/products/" + url.PathEscape(product) + "/subscription"
}

func subsCommands() *commandSet {
	return &commandSet{
		name:    "subs",
		summary: "Manage the products' subscriptions (which groups get which kinds of messages) of a running emulator.",
		about:   "PRODUCT is a product key; groups are named by id or name, and answers show their ids.",
		cmds: []subcommand{
			{name: "list", summary: "list every product's subscription",
				examples: []string{"amqpemu subs list --json"}, setup: subsList},
			{name: "get", args: []string{"PRODUCT"}, summary: "show a product's subscription",
				examples: []string{"amqpemu subs get a1B2c3D4e5F"}, setup: subsGet},
			{name: "set", args: []string{"PRODUCT"}, summary: "replace a product's subscription",
				examples: []string{"amqpemu subs set a1B2c3D4e5F --groups billing_app,DEFAULT_GROUP --kinds data,status"}, setup: subsSet},
			{name: "delete", args: []string{"PRODUCT"}, summary: "delete a product's subscription",
				examples: []string{"amqpemu subs delete a1B2c3D4e5F"}, setup: subsDelete},
		},
	}
}

// subscriptionTable writes one row per product, in product order; a FLAGS
// column appears when some subscription has the platform's further flags.
func subscriptionTable(w io.Writer, subs map[string]apiSubscription) {
	products := make([]string, 0, len(subs))
	flags := false
	for pk, s := range subs {
		products = append(products, pk)
		flags = flags || len(s.Flags) > 0
	}
	slices.Sort(products)
	head := []any{"PRODUCT", "GROUPS", "KINDS"}
	if flags {
		head = append(head, "FLAGS")
	}
	row(w, head...)
	for _, pk := range products {
		s := subs[pk]
		cells := []any{pk, orDash(strings.Join(s.Groups, ",")), orDash(strings.Join(s.Kinds, ","))}
		if flags {
			cells = append(cells, orDash(flagList(s.Flags)))
		}
		row(w, cells...)
	}
}

// flagList is "a=true,b=false" in name order.
func flagList(flags map[string]bool) string {
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		names[i] = fmt.Sprintf("%s=%t", n, flags[n])
	}
	return strings.Join(names, ",")
}

func subsList(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, _ []string) error {
		var all struct {
			Subscriptions map[string]apiSubscription `json:"subscriptions"`
		}
		data, err := c.do(ctx, http.MethodGet, "/api/v1/subscriptions", nil, nil, &all)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(all.Subscriptions) == 0 {
				fmt.Fprintln(w, "no subscriptions")
				return
			}
			subscriptionTable(w, all.Subscriptions)
		})
	}
}

// printSubscription shows one product's subscription.
func printSubscription(c *client, data []byte, pk string, s apiSubscription) error {
	return c.print(data, func(w io.Writer) {
		if len(s.Groups) == 0 {
			fmt.Fprintf(w, "product %s has no subscription\n", pk)
			return
		}
		subscriptionTable(w, map[string]apiSubscription{pk: s})
	})
}

func subsGet(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var s apiSubscription
		data, err := c.do(ctx, http.MethodGet, subscriptionPath(args[0]), nil, nil, &s)
		if err != nil {
			return err
		}
		return printSubscription(c, data, args[0], s)
	}
}

func subsSet(fs *flag.FlagSet) runFunc {
	groups := fs.String("groups", "", "the groups, comma-separated `G1,G2` (ids or names; required)")
	kinds := fs.String("kinds", "", "the message `kinds`, comma-separated: data (the default), status, lifecycle, topo, found, ota, history, tag, otaVersion, otaJob")
	return func(ctx context.Context, c *client, args []string) error {
		in := struct {
			Groups []string        `json:"groups"`
			Kinds  []string        `json:"kinds,omitempty"` // absent: the API's default
			Flags  map[string]bool `json:"subscribeFlags,omitempty"`
		}{Groups: splitList(*groups), Kinds: splitList(*kinds)}
		if len(in.Groups) == 0 {
			return c.usageError("missing --groups")
		}
		// The platform's further flags (set through the OpenAPI) are kept:
		// this command sets groups and kinds only.
		var old apiSubscription
		if _, err := c.do(ctx, http.MethodGet, subscriptionPath(args[0]), nil, nil, &old); err != nil {
			return err
		}
		in.Flags = old.Flags
		var s apiSubscription
		data, err := c.do(ctx, http.MethodPut, subscriptionPath(args[0]), nil, in, &s)
		if err != nil {
			return err
		}
		return printSubscription(c, data, args[0], s)
	}
}

func subsDelete(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		data, err := c.do(ctx, http.MethodDelete, subscriptionPath(args[0]), nil, nil, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "deleted the subscription of product %s\n", args[0]) })
	}
}
