package devices

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// Product is a product of the registry.
type Product struct {
	ProductKey string    `json:"productKey"`
	CreatedAt  time.Time `json:"createdAt"`
}

// ProductInfo is a product with the number of its devices.
type ProductInfo struct {
	Product
	Devices int
}

// Device is a registered device: its triple, iotId and state.
type Device struct {
	ProductKey   string    `json:"productKey"`
	DeviceName   string    `json:"deviceName"`
	DeviceSecret string    `json:"deviceSecret"`
	IotID        string    `json:"iotId"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"createdAt"`
	// AutoRegistered devices were registered by their first MQTT sign-in
	// (--auto-register-devices); while that option is on, their sign-in is
	// not checked, since the device never learnt the secret made for it.
	AutoRegistered bool `json:"autoRegistered,omitempty"`
}

// Publisher takes the lifecycle messages; *broker.Broker satisfies it.
type Publisher interface {
	Publish(ctx context.Context, msgs ...broker.DeviceMessage) ([]string, error)
}

// Registry keeps products and devices in a state bucket.
type Registry struct {
	state *broker.StateBucket
	pub   Publisher
	now   func() time.Time

	// mu serializes this process's read-modify-write sequences (create,
	// enable, delete): a name is created once. Registries of several
	// processes on one cluster do not coordinate.
	mu sync.Mutex
}

// New makes a registry keeping its records in state (normally
// b.StateBucket("devices")) and publishing lifecycle messages through pub.
func New(state *broker.StateBucket, pub Publisher) *Registry {
	return &Registry{state: state, pub: pub, now: time.Now}
}

// CreateProduct makes product pk, or a product with a generated key when
// pk is empty. Creating a product that exists answers it unchanged.
func (r *Registry) CreateProduct(ctx context.Context, pk string) (Product, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pk == "" {
		pk = generateProductKey()
	}
	return r.ensureProduct(ctx, pk)
}

// ensureProduct returns product pk, creating it if need be. r.mu is held.
func (r *Registry) ensureProduct(ctx context.Context, pk string) (Product, error) {
	if err := broker.ValidateProductKey(pk); err != nil {
		return Product{}, err
	}
	p, err := r.product(ctx, pk)
	if !errors.Is(err, ErrProductNotFound) {
		return p, err
	}
	p = Product{ProductKey: pk, CreatedAt: r.now().UTC()}
	if err := r.put(ctx, productKeyOf(pk), p); err != nil {
		return Product{}, err
	}
	return p, nil
}

// product reads product pk.
func (r *Registry) product(ctx context.Context, pk string) (Product, error) {
	var p Product
	if err := r.get(ctx, productKeyOf(pk), &p); err != nil {
		if errors.Is(err, broker.ErrStateNotFound) {
			return Product{}, fmt.Errorf("%w: %q", ErrProductNotFound, pk)
		}
		return Product{}, err
	}
	return p, nil
}

// Products lists the products by key, with their device counts.
func (r *Registry) Products(ctx context.Context) ([]ProductInfo, error) {
	keys, err := r.state.Keys(ctx)
	if err != nil {
		return nil, err
	}
	count := map[string]int{} // escaped product key → devices
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(k, devicePrefix); ok {
			if epk, _, ok := strings.Cut(rest, "."); ok {
				count[epk]++
			}
		}
	}
	out := []ProductInfo{}
	for _, k := range keys {
		epk, ok := strings.CutPrefix(k, productPrefix)
		if !ok {
			continue
		}
		var p Product
		if err := r.get(ctx, k, &p); err != nil {
			if errors.Is(err, broker.ErrStateNotFound) {
				continue // deleted meanwhile
			}
			return nil, err
		}
		out = append(out, ProductInfo{Product: p, Devices: count[epk]})
	}
	slices.SortFunc(out, func(a, b ProductInfo) int { return strings.Compare(a.ProductKey, b.ProductKey) })
	return out, nil
}

// CreateDevice registers device dn of product pk (a generated name when dn
// is empty) with a new secret and iotId, creating the product on first
// use, and publishes the lifecycle message "create".
func (r *Registry) CreateDevice(ctx context.Context, pk, dn string) (Device, error) {
	return r.createDevice(ctx, pk, dn, false)
}

// AutoRegister is CreateDevice for a device signing in for the first time
// under --auto-register-devices.
func (r *Registry) AutoRegister(ctx context.Context, pk, dn string) (Device, error) {
	if dn == "" {
		return Device{}, fmt.Errorf("%w: a device name is needed", broker.ErrInvalidName)
	}
	return r.createDevice(ctx, pk, dn, true)
}

func (r *Registry) createDevice(ctx context.Context, pk, dn string, auto bool) (Device, error) {
	if err := broker.ValidateProductKey(pk); err != nil {
		return Device{}, err
	}
	if dn == "" {
		dn = randomString(20)
	}
	if err := broker.ValidateDeviceName(dn); err != nil {
		return Device{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.device(ctx, pk, dn); !errors.Is(err, ErrDeviceNotFound) {
		if err == nil {
			return Device{}, fmt.Errorf("%w: %q in product %q", ErrDeviceExists, dn, pk)
		}
		return Device{}, err
	}
	if _, err := r.ensureProduct(ctx, pk); err != nil {
		return Device{}, err
	}
	d := Device{
		ProductKey: pk, DeviceName: dn, DeviceSecret: randomString(32),
		IotID: randomString(20) + "000100", Enabled: true, CreatedAt: r.now().UTC(), AutoRegistered: auto,
	}
	if err := r.put(ctx, deviceKeyOf(pk, dn), d); err != nil {
		return Device{}, err
	}
	return d, r.lifecycle(ctx, "create", d)
}

// Device returns device dn of product pk, or an error wrapping
// ErrDeviceNotFound. It is what the MQTT listener signs devices in with.
func (r *Registry) Device(ctx context.Context, pk, dn string) (Device, error) {
	if err := broker.ValidateProductKey(pk); err != nil {
		return Device{}, err
	}
	if err := broker.ValidateDeviceName(dn); err != nil {
		return Device{}, err
	}
	return r.device(ctx, pk, dn)
}

func (r *Registry) device(ctx context.Context, pk, dn string) (Device, error) {
	var d Device
	if err := r.get(ctx, deviceKeyOf(pk, dn), &d); err != nil {
		if errors.Is(err, broker.ErrStateNotFound) {
			return Device{}, fmt.Errorf("%w: %q in product %q", ErrDeviceNotFound, dn, pk)
		}
		return Device{}, err
	}
	return d, nil
}

// Devices lists product pk's devices by name; an unknown product is
// ErrProductNotFound.
func (r *Registry) Devices(ctx context.Context, pk string) ([]Device, error) {
	if err := broker.ValidateProductKey(pk); err != nil {
		return nil, err
	}
	if _, err := r.product(ctx, pk); err != nil {
		return nil, err
	}
	keys, err := r.state.Keys(ctx)
	if err != nil {
		return nil, err
	}
	prefix := devicesPrefixOf(pk)
	out := []Device{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		var d Device
		if err := r.get(ctx, k, &d); err != nil {
			if errors.Is(err, broker.ErrStateNotFound) {
				continue // deleted meanwhile
			}
			return nil, err
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Device) int { return strings.Compare(a.DeviceName, b.DeviceName) })
	return out, nil
}

// DeleteDevice removes a device and publishes the lifecycle message
// "delete". The product stays.
func (r *Registry) DeleteDevice(ctx context.Context, pk, dn string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := r.Device(ctx, pk, dn)
	if err != nil {
		return err
	}
	if err := r.state.Delete(ctx, deviceKeyOf(pk, dn)); err != nil {
		return err
	}
	return r.lifecycle(ctx, "delete", d)
}

// SetEnabled enables or disables a device and publishes the lifecycle
// message "enable" or "disable"; setting the state it has changes nothing
// and publishes nothing.
func (r *Registry) SetEnabled(ctx context.Context, pk, dn string, enabled bool) (Device, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := r.Device(ctx, pk, dn)
	if err != nil || d.Enabled == enabled {
		return d, err
	}
	d.Enabled = enabled
	if err := r.put(ctx, deviceKeyOf(pk, dn), d); err != nil {
		return Device{}, err
	}
	action := "disable"
	if enabled {
		action = "enable"
	}
	return d, r.lifecycle(ctx, action, d)
}

// lifecycleMessage is the payload the platform sends on
// /{pk}/{dn}/thing/lifecycle.
type lifecycleMessage struct {
	Action            string `json:"action"` // create, delete, enable or disable
	IotID             string `json:"iotId"`
	ProductKey        string `json:"productKey"`
	DeviceName        string `json:"deviceName"`
	DeviceSecret      string `json:"deviceSecret,omitempty"` // on create only
	MessageCreateTime int64  `json:"messageCreateTime"`      // epoch ms
}

// lifecycle publishes the lifecycle message action about d.
func (r *Registry) lifecycle(ctx context.Context, action string, d Device) error {
	now := r.now()
	m := lifecycleMessage{Action: action, IotID: d.IotID, ProductKey: d.ProductKey, DeviceName: d.DeviceName, MessageCreateTime: now.UnixMilli()}
	if action == "create" {
		m.DeviceSecret = d.DeviceSecret
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = r.pub.Publish(ctx, broker.DeviceMessage{
		ProductKey: d.ProductKey, DeviceName: d.DeviceName, Kind: broker.KindLifecycle,
		Topic: "/" + d.ProductKey + "/" + d.DeviceName + "/thing/lifecycle", Payload: payload, GenerateTime: now,
	})
	if err != nil {
		return fmt.Errorf("device %s of product %s: %s done, its lifecycle message not published: %w", d.DeviceName, d.ProductKey, action, err)
	}
	return nil
}

func (r *Registry) get(ctx context.Context, key string, v any) error {
	data, err := r.state.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("registry record %s: %w", key, err)
	}
	return nil
}

func (r *Registry) put(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.state.Put(ctx, key, data)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString is n random letters and digits (crypto/rand).
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		rand.Read(buf) // never fails (crypto/rand since Go 1.24)
		for _, c := range buf {
			if c < 248 && len(out) < n { // 248 = 4×62: no bias
				out = append(out, alnum[c%62])
			}
		}
	}
	return string(out)
}

// generateProductKey is an 11-character key like the platform's
// (a1B2c3D4e5F): a lower-case letter, then letters and digits.
func generateProductKey() string {
	for {
		k := randomString(11)
		if c := k[0]; c >= 'a' && c <= 'z' {
			return k
		}
	}
}
