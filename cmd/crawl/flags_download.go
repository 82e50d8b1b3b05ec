package main

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"crawl/downloader"
)

// addDownloadFlags binds the downloader flags of `crawl run` into c.
func addDownloadFlags(f *pflag.FlagSet, c *downloader.Config) {
	f.DurationVar(&c.Timeout, "timeout", downloader.DefaultTimeout, "time limit for one attempt at a request, body included")
	f.StringVar(&c.UserAgent, "user-agent", downloader.DefaultUserAgent, "User-Agent header sent with every request; its first word is the name robots.txt rules address")
	f.BoolVar(&c.ObeyRobots, "obey-robots", true, "fetch each site's robots.txt and skip the URLs it disallows")
	c.Retries = downloader.DefaultRetries
	f.Var(retriesValue{&c.Retries}, "retries", "retry a request this many times after a network error, a timeout, or a 408, 429 or 5xx answer (0: never)")
	f.DurationVar(&c.MaxRetryWait, "max-retry-wait", downloader.DefaultMaxRetryWait, "longest wait before a retry; a Retry-After asking for longer ends the retries")
	c.MaxBody = downloader.DefaultMaxBody
	f.Var(byteSize{&c.MaxBody}, "max-body", "most body bytes read from one response, after decompression; a longer body is cut there (e.g. 512KiB, 10MiB)")
	f.VarPF(enabled{&c.DisableCookies}, "cookies", "", "keep the cookies sites set, for the rest of the crawl").NoOptDefVal = "true"
	f.BoolVar(&c.DenyPrivate, "deny-private", true, "never let a page on a public address lead (by link or redirect) to a loopback, private or link-local address; start URLs, and links found on pages at private addresses, may go anywhere")
	f.Var(prefixList{&c.PrivateNets}, "private-nets", "the networks --deny-private keeps out, as comma-separated CIDR prefixes (default: loopback, private, link-local and the like)")
	f.MarkHidden("private-nets") // for tests, which can only use loopback
	f.StringVar(&c.Proxy, "proxy", "", "send every request through the proxy at `URL` (default: from HTTP_PROXY, HTTPS_PROXY, NO_PROXY)")
	f.StringVar(&c.CacheDir, "cache", "", "keep responses in `DIR`, and answer requests from there when a later run repeats them")
	f.DurationVar(&c.CacheTTL, "cache-ttl", 0, "how long a response kept by --cache is used (0: for ever)")
	f.BoolVar(&c.CacheRefresh, "cache-refresh", false, "with --cache, fetch every request again and replace what was kept")
}

func validateDownload(c *downloader.Config) []error {
	var errs []error
	if c.Timeout <= 0 {
		errs = append(errs, flagError{"timeout", fmt.Sprintf("must be positive, got %s", c.Timeout)})
	}
	if c.MaxRetryWait <= 0 {
		errs = append(errs, flagError{"max-retry-wait", fmt.Sprintf("must be positive, got %s", c.MaxRetryWait)})
	}
	if c.CacheTTL < 0 {
		errs = append(errs, flagError{"cache-ttl", fmt.Sprintf("must not be negative, got %s", c.CacheTTL)})
	}
	if c.Proxy != "" {
		if _, err := downloader.ParseProxy(c.Proxy); err != nil {
			errs = append(errs, flagError{"proxy", ": " + err.Error()})
		}
	}
	if c.CacheDir != "" {
		if err := os.MkdirAll(c.CacheDir, 0o755); err != nil {
			errs = append(errs, flagError{"cache", ": " + err.Error()})
		}
	}
	return errs
}

// retriesValue is --retries: a count of retries, where the flag's 0 (none)
// is downloader.NoRetries, since Config's zero means the default.
type retriesValue struct{ n *int }

func (v retriesValue) String() string {
	if v.n == nil {
		return ""
	}
	return strconv.Itoa(max(*v.n, 0))
}

func (v retriesValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return fmt.Errorf("want a whole number of retries, 0 or more")
	}
	if n == 0 {
		n = downloader.NoRetries
	}
	*v.n = n
	return nil
}

func (retriesValue) Type() string { return "int" }

// prefixList is a flag for a list of networks in CIDR notation, separated
// by commas; each use replaces the list.
type prefixList struct{ nets *[]netip.Prefix }

func (v prefixList) String() string {
	if v.nets == nil {
		return ""
	}
	s := make([]string, len(*v.nets))
	for i, p := range *v.nets {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (v prefixList) Set(s string) error {
	var nets []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("want networks such as 10.0.0.0/8,fc00::/7: %q is not one", strings.TrimSpace(f))
		}
		nets = append(nets, p.Masked())
	}
	*v.nets = nets
	return nil
}

func (prefixList) Type() string { return "networks" }

// enabled is a bool flag for a Config field that says the opposite:
// --cookies=false sets DisableCookies.
type enabled struct{ disabled *bool }

func (v enabled) String() string {
	if v.disabled == nil {
		return ""
	}
	return strconv.FormatBool(!*v.disabled)
}

func (v enabled) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	*v.disabled = !b
	return nil
}

func (enabled) Type() string { return "bool" }

// byteSize is a flag for a number of bytes, with an optional unit: B, KB,
// MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
type byteSize struct{ n *int64 }

var byteUnits = []struct {
	suffix string
	size   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

func (v byteSize) String() string {
	if v.n == nil {
		return ""
	}
	for _, u := range byteUnits[:3] {
		if n := *v.n; n >= u.size && n%u.size == 0 && (n/u.size < 1024 || u.suffix == "GiB") {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*v.n, 10)
}

func (v byteSize) Set(s string) error {
	num, unit := strings.TrimSpace(s), int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, unit = strings.TrimSpace(rest), u.size
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if bytes := n * float64(unit); err != nil || !(bytes >= 1 && bytes < math.MaxInt64) { // NaN fails too
		return fmt.Errorf("want a positive size such as 10MiB, 512KiB or 100000")
	}
	*v.n = int64(n * float64(unit))
	return nil
}

func (byteSize) Type() string { return "size" }
