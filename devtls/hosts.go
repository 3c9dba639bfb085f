package devtls

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// hosts are the names a server certificate must cover, normalised and
// de-duplicated: DNS names lower-case without a trailing dot, IPv4-mapped
// IPv6 addresses as IPv4.
type hosts struct {
	dns []string
	ips []net.IP
}

// parseHosts normalises names; the first invalid one is an error naming it.
func parseHosts(names []string) (hosts, error) {
	var hs hosts
	seenIP := map[netip.Addr]bool{}
	for _, raw := range names {
		name, addr, err := parseHost(raw)
		switch {
		case err != nil:
			return hosts{}, err
		case addr.IsValid() && !seenIP[addr]:
			seenIP[addr] = true
			hs.ips = append(hs.ips, net.IP(addr.AsSlice()))
		case name != "" && !slices.Contains(hs.dns, name):
			hs.dns = append(hs.dns, name)
		}
	}
	return hs, nil
}

// parseHost returns either a DNS name or an IP address. Brackets around an
// IPv6 literal are accepted because users copy hosts out of URLs.
func parseHost(raw string) (string, netip.Addr, error) {
	h := strings.TrimSpace(raw)
	literal := h
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		literal = h[1 : len(h)-1]
	}
	if addr, err := netip.ParseAddr(literal); err == nil {
		if addr.Zone() != "" { // a zone is local to one machine; no SAN can hold it
			return "", netip.Addr{}, fmt.Errorf("devtls: invalid TLS host %q: IPv6 zones cannot appear in a certificate", raw)
		}
		return "", addr.Unmap(), nil
	}
	name := strings.TrimSuffix(strings.ToLower(h), ".")
	if !validDNSName(name) {
		return "", netip.Addr{}, fmt.Errorf("devtls: invalid TLS host %q: want a DNS name (letters, digits, '-', '_', dots; optionally a leading \"*.\") or an IP address", raw)
	}
	return name, netip.Addr{}, nil
}

// validDNSName accepts what certificate verifiers match: ASCII labels of
// letters, digits, '-' and '_' (docker-compose service names), with an
// optional leading wildcard label. An all-digit last label is rejected so
// that a mistyped IP such as 127.1 or 10.0.0.256 is not taken for a name.
func validDNSName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return false
	}
	for i, l := range labels {
		if i == 0 && l == "*" && len(labels) > 1 {
			continue
		}
		if !validLabel(l) {
			return false
		}
	}
	return true
}

// validLabel checks one DNS label (already lower-case).
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range []byte(l) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// coveredBy reports whether cert lists every host as a SAN. Extra SANs are
// fine: dropping a host should not churn a certificate users may have pinned.
func (hs hosts) coveredBy(cert *x509.Certificate) bool {
	for _, name := range hs.dns {
		if !slices.ContainsFunc(cert.DNSNames, func(n string) bool { return strings.EqualFold(n, name) }) {
			return false
		}
	}
	for _, ip := range hs.ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}
