package downloader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrPrivateAddress is wrapped by the error for a request that
// Config.DenyPrivate refused: the request came from a public page (or a
// redirect answered from a public address), and it would have connected to
// an address in Config.PrivateNets. Nothing was sent. It is never retried.
var ErrPrivateAddress = errors.New("connection to a private address refused")

// defaultPrivateNets are the addresses a request from a public page may
// not reach when Config.PrivateNets is nil: this host, the private
// networks it may sit on, link-local (cloud metadata services answer at
// 169.254.169.254 and fd00:ec2::254), and addresses that are not a single
// host. IPv4 addresses mapped into IPv6 (::ffff:10.0.0.1) and IPv4
// addresses behind the NAT64 prefix 64:ff9b::/96 are judged as the IPv4
// address they carry.
var defaultPrivateNets = netSet{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"; 0.0.0.0 reaches this host
	netip.MustParsePrefix("10.0.0.0/8"),     // RFC 1918
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, RFC 6598
	netip.MustParsePrefix("127.0.0.0/8"),    // loopback
	netip.MustParsePrefix("169.254.0.0/16"), // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),  // RFC 1918
	netip.MustParsePrefix("192.168.0.0/16"), // RFC 1918
	netip.MustParsePrefix("224.0.0.0/4"),    // multicast
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
	netip.MustParsePrefix("::/128"),         // unspecified
	netip.MustParsePrefix("::1/128"),        // loopback
	netip.MustParsePrefix("fc00::/7"),       // unique local
	netip.MustParsePrefix("fe80::/10"),      // link-local
	netip.MustParsePrefix("ff00::/8"),       // multicast
}

// nat64 is the well-known NAT64 prefix of RFC 6052: its addresses reach
// the IPv4 address in their last four bytes.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// netSet is a set of networks. The zero value is empty.
type netSet []netip.Prefix

// contains reports whether a is in one of the networks, judging an IPv4
// address mapped into IPv6, or behind NAT64, by that IPv4 address. An
// invalid address is in every set: what cannot be read is not trusted.
func (s netSet) contains(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.WithZone("").Unmap() // a Prefix never contains a zoned address
	if nat64.Contains(a) {
		b := a.As16()
		if s.contains(netip.AddrFrom4([4]byte(b[12:]))) {
			return true
		}
	}
	for _, p := range s {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// refuseDial is a net.Dialer Control function: it runs after the host name
// is resolved, just before each connect, with the address actually dialled,
// so neither a name that resolves to a private address nor one that
// changes its answer between two lookups (DNS rebinding) gets through.
func (s netSet) refuseDial(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || s.contains(ap.Addr()) {
		return ErrPrivateAddress // the net.OpError around it names the address
	}
	return nil
}

// hopsKey is the context key of an attempt's *hops.
type hopsKey struct{}

// hops is what the guard learns about the hops of one attempt at a
// request (the request, then each redirect), in order: the client runs
// them one at a time, but the fields are atomic since the transport may
// report a connection from another goroutine.
type hops struct {
	// publicOnly makes every further hop connect only to public
	// addresses. It starts as the request's PublicOnly and, with
	// Config.DenyPrivate, is set once a hop is answered from a public
	// address: a public server's redirect is a link from a public page.
	publicOnly atomic.Bool
	// public says whether the last hop was answered from a public address.
	public atomic.Bool
}

func hopsOf(ctx context.Context) *hops {
	h, _ := ctx.Value(hopsKey{}).(*hops)
	return h
}

// guard is the RoundTripper of the Downloader's clients. It sends each hop
// through one of two transports with separate connection pools, so that a
// connection made for one kind of request is never reused for the other:
// normal, which may connect anywhere, and public, whose dialer refuses the
// private networks. A hop goes through public when Config.DenyPrivate is
// set and the attempt's hops say publicOnly. Every hop records whether its
// answer came from a public address.
//
// Through a proxy, the proxy is what this process connects to, and the
// proxy connects to the target: the guard then judges the target by its
// host as written (an IP address, or a name under localhost), and takes any
// other name for public. A proxy can still reach a private address through
// a name that resolves to one; only a direct connection is checked on the
// address dialled.
type guard struct {
	normal, public *http.Transport
	private        netSet
	deny           bool
	proxy          func(*http.Request) (*url.URL, error) // normal.Proxy; nil for none
}

// newGuard returns a guard whose normal transport is tr (which it keeps as
// it is) and whose public transport is a copy of tr without a proxy.
func newGuard(tr *http.Transport, private netSet, deny bool) *guard {
	pub := tr.Clone()
	pub.Proxy = nil
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: private.refuseDial}
	pub.DialContext = dialer.DialContext
	return &guard{normal: tr, public: pub, private: private, deny: deny, proxy: tr.Proxy}
}

// RoundTrip implements http.RoundTripper.
func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	h := hopsOf(req.Context())
	if h == nil {
		h = new(hops) // not made by attempt: no provenance
	}
	publicOnly := g.deny && h.publicOnly.Load()
	var proxied bool
	if g.proxy != nil {
		u, err := g.proxy(req)
		if err != nil {
			return nil, err
		}
		proxied = u != nil
	}
	var (
		resp   *http.Response
		err    error
		public bool
	)
	if proxied {
		public = g.publicHost(req.URL.Hostname())
		if publicOnly && !public {
			return nil, fmt.Errorf("%s (through a proxy): %w", req.URL.Host, ErrPrivateAddress)
		}
		resp, err = g.normal.RoundTrip(req)
	} else {
		var addr atomic.Pointer[netip.Addr]
		ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				a := remoteAddr(info.Conn)
				addr.Store(&a)
			},
		})
		tr := g.normal
		if publicOnly {
			tr = g.public
		}
		resp, err = tr.RoundTrip(req.WithContext(ctx))
		if a := addr.Load(); a != nil {
			public = !g.private.contains(*a)
		}
	}
	h.public.Store(public)
	if g.deny && public {
		h.publicOnly.Store(true)
	}
	return resp, err
}

// CloseIdleConnections closes the idle connections of both transports.
func (g *guard) CloseIdleConnections() {
	g.normal.CloseIdleConnections()
	g.public.CloseIdleConnections()
}

// publicHost judges a host that is not dialled here: an IP address by the
// private networks, a name by whether it is localhost.
func (g *guard) publicHost(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return !g.private.contains(a)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host != "localhost" && !strings.HasSuffix(host, ".localhost")
}

// remoteAddr returns the IP address at the other end of c, or the zero
// Addr if it has none.
func remoteAddr(c net.Conn) netip.Addr {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr()
	case nil:
		return netip.Addr{}
	default:
		ap, _ := netip.ParseAddrPort(a.String())
		return ap.Addr()
	}
}
