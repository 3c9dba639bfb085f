package console

import (
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// The request guards: on loopback the API takes no credentials, so what a
// browser can send to 127.0.0.1 from any page must not change state.
//
//   - A state-changing request (POST, PUT, PATCH, DELETE) a browser sends
//     cross-origin is refused (403 CrossOriginRefused): Sec-Fetch-Site
//     other than same-origin or none, or an Origin whose host:port is not
//     the request's Host. Browsers set both headers themselves and pages
//     cannot forge them; curl and the SDKs send neither.
//   - A request with a body must say Content-Type: application/json (415
//     UnsupportedMediaType): a page can POST text/plain or a form without
//     a CORS preflight, but never application/json.
//   - With HostCheck (loopback mode), the Host header must be a name of this
//     machine's loopback (localhost, *.localhost, a loopback address) or one
//     of ExtraHosts (403 HostRefused): a page whose DNS name is rebound to
//     127.0.0.1 is same-origin to itself and passes the checks above, but
//     its requests carry its own name as Host.
//
// The last two apply to the unauthenticated surfaces (see unsigned);
// /healthz, which tells nothing and changes nothing, answers any Host.

// unsigned reports whether path is one of the surfaces that on loopback
// take requests without credentials: the REST API and /metrics. The Host
// and JSON rules apply to them only; surfaces whose requests are signed
// (the vendor's RPC, which posts forms, or a log service reached through
// HTTP_PROXY with its own Host) are not a browser's to forge, and only the
// cross-origin rule covers them.
func unsigned(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/metrics"
}

// stateChanging reports whether method may change state.
func stateChanging(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// crossOrigin says why r is a cross-origin browser request, or "".
func crossOrigin(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "the browser marked it Sec-Fetch-Site: " + site
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return "it comes from the opaque origin " + quote(origin)
	}
	if !sameHostPort(u.Scheme, u.Host, r.Host) {
		return "its Origin " + quote(origin) + " is not this server (Host " + quote(r.Host) + ")"
	}
	return ""
}

// sameHostPort compares an Origin's host[:port] with a Host header, the
// scheme's default port being implied where one leaves it out.
func sameHostPort(scheme, origin, host string) bool {
	def := map[string]string{"http": "80", "https": "443"}[strings.ToLower(scheme)]
	norm := func(hp string) string {
		hp = strings.ToLower(hp)
		if h, p, err := net.SplitHostPort(hp); err == nil && p == def {
			if strings.Contains(h, ":") {
				return "[" + h + "]"
			}
			return h
		}
		return hp
	}
	return norm(origin) == norm(host)
}

// jsonBody says why r's body is not declared JSON, or "" when it is (or
// there is no body).
func jsonBody(r *http.Request) string {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return ""
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "the request has a body but no Content-Type"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "its Content-Type " + quote(ct) + " is malformed"
	}
	if mt != "application/json" {
		return "its Content-Type is " + quote(mt)
	}
	return ""
}

// hostAllowed reports whether host (a Host header) names this machine's
// loopback or one of extra.
func hostAllowed(host string, extra []string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().IsLoopback()
	}
	for _, e := range extra {
		if strings.EqualFold(strings.TrimSuffix(e, "."), h) {
			return true
		}
	}
	return false
}

// guard applies the checks above; it answers and returns false when one
// refuses r.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.HostCheck && unsigned(r.URL.Path) && !hostAllowed(r.Host, s.cfg.ExtraHosts) {
		s.fail(w, r, errorf(http.StatusForbidden, CodeHostRefused,
			"Host %q is not a name of this server: on loopback the API answers only to localhost and loopback addresses (add names with --tls-hosts); this refuses pages whose DNS name was rebound to 127.0.0.1", r.Host))
		return false
	}
	if !stateChanging(r.Method) {
		return true
	}
	if why := crossOrigin(r); why != "" {
		s.fail(w, r, errorf(http.StatusForbidden, CodeCrossOriginRefused,
			"%s %s refused: %s; state-changing requests from other web pages are not accepted (use curl, amqpemu publish or an SDK)", r.Method, r.URL.Path, why))
		return false
	}
	return true
}

// requireJSON answers 415 and returns false when r has a body not declared
// as JSON.
func (s *Server) requireJSON(w http.ResponseWriter, r *http.Request) bool {
	if !stateChanging(r.Method) || !unsigned(r.URL.Path) {
		return true
	}
	if why := jsonBody(r); why != "" {
		w.Header().Set("Accept", "application/json")
		s.fail(w, r, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			"%s: the body must be JSON sent with Content-Type: application/json (curl --json '…' or -H 'Content-Type: application/json')", why))
		return false
	}
	return true
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}
