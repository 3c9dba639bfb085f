package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiDevice is a device in the REST API's answers.
type apiDevice struct {
	ProductKey   string    `json:"productKey"`
	DeviceName   string    `json:"deviceName"`
	DeviceSecret string    `json:"deviceSecret"`
	IotID        string    `json:"iotId"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"createdAt"`
}

// apiProduct is a product in GET /api/v1/products.
type apiProduct struct {
	ProductKey string    `json:"productKey"`
	CreatedAt  time.Time `json:"createdAt"`
	Devices    int       `json:"devices"`
}

func devicePath(product string, tail ...string) string {
	return "/api/v1/products/" + url.PathEscape(product) + "/devices" + strings.Join(tail, "")
}

func devicesCommands() *commandSet {
	return &commandSet{
		name:    "devices",
		summary: "Manage the products and devices of a running emulator's device registry through its REST API.",
		about:   "PRODUCT is a product key, DEVICE a device name; a device's triple (product key, name, secret) is what it signs in with.",
		cmds: []subcommand{
			{name: "create", args: []string{"PRODUCT", "[DEVICE]"}, summary: "register a device (a generated name without DEVICE) and print its triple; the product is created on first use",
				examples: []string{"amqpemu devices create a1B2c3D4e5F sensor-01"}, setup: devicesCreate},
			{name: "list", args: []string{"PRODUCT"}, summary: "list a product's devices",
				examples: []string{"amqpemu devices list a1B2c3D4e5F"}, setup: devicesList},
			{name: "get", args: []string{"PRODUCT", "DEVICE"}, summary: "show a device with its secret",
				examples: []string{"amqpemu devices get a1B2c3D4e5F sensor-01 --json"}, setup: devicesGet},
			{name: "delete", args: []string{"PRODUCT", "DEVICE"}, summary: "delete a device",
				examples: []string{"amqpemu devices delete a1B2c3D4e5F sensor-01"}, setup: devicesDelete},
			{name: "enable", args: []string{"PRODUCT", "DEVICE"}, summary: "enable a device",
				examples: []string{"amqpemu devices enable a1B2c3D4e5F sensor-01"}, setup: devicesEnable(true)},
			{name: "disable", args: []string{"PRODUCT", "DEVICE"}, summary: "disable a device",
				examples: []string{"amqpemu devices disable a1B2c3D4e5F sensor-01"}, setup: devicesEnable(false)},
			{name: "products", summary: "list the products with their device counts",
				examples: []string{"amqpemu devices products --json"}, setup: devicesProducts},
		},
	}
}

// deviceTable writes the devices with their triples.
func deviceTable(w io.Writer, devs ...apiDevice) {
	row(w, "PRODUCT", "DEVICE", "SECRET", "IOTID", "ENABLED", "CREATED")
	for _, d := range devs {
		row(w, d.ProductKey, d.DeviceName, d.DeviceSecret, d.IotID, d.Enabled, when(&d.CreatedAt))
	}
}

func devicesCreate(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var in any // no body: the API generates the name
		if len(args) > 1 {
			in = map[string]string{"deviceName": args[1]}
		}
		var d apiDevice
		data, err := c.do(ctx, http.MethodPost, devicePath(args[0]), nil, in, &d)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { deviceTable(w, d) })
	}
}

func devicesList(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var list struct {
			Devices []apiDevice `json:"devices"`
		}
		data, err := c.do(ctx, http.MethodGet, devicePath(args[0]), nil, nil, &list)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(list.Devices) == 0 {
				fmt.Fprintf(w, "no devices in product %s\n", args[0])
				return
			}
			deviceTable(w, list.Devices...)
		})
	}
}

func devicesGet(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var d apiDevice
		data, err := c.do(ctx, http.MethodGet, devicePath(args[0], "/", url.PathEscape(args[1])), nil, nil, &d)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { deviceTable(w, d) })
	}
}

func devicesDelete(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		data, err := c.do(ctx, http.MethodDelete, devicePath(args[0], "/", url.PathEscape(args[1])), nil, nil, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "deleted device %s of product %s\n", args[1], args[0]) })
	}
}

func devicesEnable(enabled bool) func(*flag.FlagSet) runFunc {
	action := "/disable"
	if enabled {
		action = "/enable"
	}
	return func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, c *client, args []string) error {
			var d apiDevice
			data, err := c.do(ctx, http.MethodPost, devicePath(args[0], "/", url.PathEscape(args[1]), action), nil, nil, &d)
			if err != nil {
				return err
			}
			return c.print(data, func(w io.Writer) { deviceTable(w, d) })
		}
	}
}

func devicesProducts(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, _ []string) error {
		var list struct {
			Products []apiProduct `json:"products"`
		}
		data, err := c.do(ctx, http.MethodGet, "/api/v1/products", nil, nil, &list)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(list.Products) == 0 {
				fmt.Fprintln(w, "no products")
				return
			}
			row(w, "PRODUCT", "DEVICES", "CREATED")
			for _, p := range list.Products {
				row(w, p.ProductKey, p.Devices, when(&p.CreatedAt))
			}
		})
	}
}
