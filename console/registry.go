package console

import (
	"context"
	"net/http"
	"time"

	"github.com/amqpemu/amqpemu/devices"
)

// Devices is what the console needs from the device registry;
// *devices.Registry satisfies it.
type Devices interface {
	CreateProduct(ctx context.Context, pk string) (devices.Product, error)
	Products(ctx context.Context) ([]devices.ProductInfo, error)
	CreateDevice(ctx context.Context, pk, dn string) (devices.Device, error)
	Device(ctx context.Context, pk, dn string) (devices.Device, error)
	Devices(ctx context.Context, pk string) ([]devices.Device, error)
	DeleteDevice(ctx context.Context, pk, dn string) error
	SetEnabled(ctx context.Context, pk, dn string, enabled bool) (devices.Device, error)
}

// registryRoutes registers the products and devices of the registry.
// Without Config.Devices every route answers 404 DevicesDisabled.
func (s *Server) registryRoutes() {
	h := s.apiIf(s.cfg.Devices != nil, devicesOff)
	s.mux.Handle("POST /api/v1/products", h(s.createProduct))
	s.mux.Handle("GET /api/v1/products", h(s.listProducts))
	s.mux.Handle("POST /api/v1/products/{pk}/devices", h(s.createDevice))
	s.mux.Handle("GET /api/v1/products/{pk}/devices", h(s.listDevices))
	s.mux.Handle("GET /api/v1/products/{pk}/devices/{dn}", h(s.getDevice))
	s.mux.Handle("DELETE /api/v1/products/{pk}/devices/{dn}", h(s.deleteDevice))
	s.mux.Handle("POST /api/v1/products/{pk}/devices/{dn}/enable", h(s.enableDevice(true)))
	s.mux.Handle("POST /api/v1/products/{pk}/devices/{dn}/disable", h(s.enableDevice(false)))
}

func devicesOff(http.ResponseWriter, *http.Request) error {
	return errorf(http.StatusNotFound, CodeDevicesDisabled, "the device registry is off in this server (it runs without one)")
}

// productJSON is a product as the REST API shows it; Devices only in lists.
type productJSON struct {
	ProductKey string    `json:"productKey"`
	CreatedAt  time.Time `json:"createdAt"`
	Devices    *int      `json:"devices,omitempty"`
}

// deviceJSON is a device as the REST API shows it.
type deviceJSON struct {
	ProductKey   string    `json:"productKey"`
	DeviceName   string    `json:"deviceName"`
	DeviceSecret string    `json:"deviceSecret"`
	IotID        string    `json:"iotId"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"createdAt"`
}

func toDeviceJSON(d devices.Device) deviceJSON {
	return deviceJSON{ProductKey: d.ProductKey, DeviceName: d.DeviceName, DeviceSecret: d.DeviceSecret,
		IotID: d.IotID, Enabled: d.Enabled, CreatedAt: d.CreatedAt}
}

// createProduct makes a product; without a productKey one is generated.
// A product that exists is answered as it is.
func (s *Server) createProduct(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ProductKey string `json:"productKey"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	p, err := s.cfg.Devices.CreateProduct(r.Context(), in.ProductKey)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, productJSON{ProductKey: p.ProductKey, CreatedAt: p.CreatedAt})
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	all, err := s.cfg.Devices.Products(r.Context())
	if err != nil {
		return err
	}
	out := make([]productJSON, len(all))
	for i, p := range all {
		out[i] = productJSON{ProductKey: p.ProductKey, CreatedAt: p.CreatedAt, Devices: &all[i].Devices}
	}
	return writeJSON(w, http.StatusOK, struct {
		Products []productJSON `json:"products"`
	}{out})
}

// createDevice registers a device (a generated name without deviceName),
// creating the product on first use.
func (s *Server) createDevice(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		DeviceName string `json:"deviceName"`
	}
	if err := decodeOptional(w, r, &in); err != nil {
		return err
	}
	d, err := s.cfg.Devices.CreateDevice(r.Context(), r.PathValue("pk"), in.DeviceName)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toDeviceJSON(d))
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) error {
	all, err := s.cfg.Devices.Devices(r.Context(), r.PathValue("pk"))
	if err != nil {
		return err
	}
	out := make([]deviceJSON, len(all))
	for i, d := range all {
		out[i] = toDeviceJSON(d)
	}
	return writeJSON(w, http.StatusOK, struct {
		Devices []deviceJSON `json:"devices"`
	}{out})
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request) error {
	d, err := s.cfg.Devices.Device(r.Context(), r.PathValue("pk"), r.PathValue("dn"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toDeviceJSON(d))
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Devices.DeleteDevice(r.Context(), r.PathValue("pk"), r.PathValue("dn")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) enableDevice(enabled bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		d, err := s.cfg.Devices.SetEnabled(r.Context(), r.PathValue("pk"), r.PathValue("dn"), enabled)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, toDeviceJSON(d))
	}
}
