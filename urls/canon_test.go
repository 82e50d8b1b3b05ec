package urls

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestCanonicalOneURL checks that spellings of one URL have one canonical
// form and one fingerprint.
func TestCanonicalOneURL(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want      string
		spellings []string
	}{
		{"case, port, order, dots, escapes, fragment", "http://example.com/a/b?a=1&b=2", []string{
			"http://example.com/a/b?a=1&b=2",
			"HTTP://Example.COM:80/a/b?b=2&a=1#frag",
			"http://example.com/a/%62?a=1&b=2",
			"http://example.com/a/./b?b=2&a=1",
			"http://example.com:80/x/../a/b?a=%31&b=2",
			"  http://example.com/a/b?a=1&b=2#",
			"http://example.com/a/b?&a=1&&b=2&",
		}},
		{"https default port and empty path", "https://example.com/", []string{
			"https://example.com",
			"https://EXAMPLE.com:443",
			"https://example.com/#top",
			"https://example.com/?",
			"https://example.com?&",
		}},
		{"unreserved escapes", "http://example.com/~user/a-b_c.d", []string{
			"http://example.com/~user/a-b_c.d",
			"http://example.com/%7euser/a%2Db%5Fc%2Ed",
			"http://example.com/%7Euser/a-b_c.d",
		}},
		{"escape case", "http://example.com/a%2Fb?q=%E2%82%AC", []string{
			"http://example.com/a%2fb?q=%e2%82%ac",
			"http://example.com/a%2Fb?q=%E2%82%AC",
			"http://example.com/a%2fb?q=€",
		}},
		{"non-ASCII path and IDN host", "http://xn--bcher-kva.example/caf%C3%A9", []string{
			"http://Bücher.example/café",
			"http://xn--bcher-kva.example/caf%c3%a9",
			"http://BÜCHER.example:80/caf%C3%A9",
		}},
		{"characters RFC 3986 does not allow", "http://example.com/a%7Cb%5E?x=%5B1%5D%7C", []string{
			"http://example.com/a|b^?x=[1]|",
			"http://example.com/a%7cb%5e?x=%5b1%5d%7c",
		}},
		{"stray percent", "http://example.com/100%25?d=5%25", []string{
			"http://example.com/100%?d=5%",
			"http://example.com/100%25?d=5%25",
		}},
		{"IPv6", "http://[::1]/", []string{
			"http://[::1]:80/",
			"http://[0:0::1]",
		}},
		{"userinfo", "http://User:Pa~ss@example.com/", []string{
			"http://User:Pa%7Ess@EXAMPLE.com/",
			"http://User:Pa~ss@example.com",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFP, err := DefaultCanon.Fingerprint(tc.want)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.spellings {
				got, err := DefaultCanon.Canonical(s)
				if err != nil {
					t.Errorf("Canonical(%q): %v", s, err)
					continue
				}
				if got != tc.want {
					t.Errorf("Canonical(%q): got %q, want %q", s, got, tc.want)
				}
				if fp, err := DefaultCanon.Fingerprint(s); err != nil || fp != wantFP {
					t.Errorf("Fingerprint(%q): got %#x, %v, want %#x", s, fp, err, wantFP)
				}
				if _, err := url.Parse(got); err != nil {
					t.Errorf("net/url rejects %q: %v", got, err)
				}
			}
		})
	}
}

// TestCanonicalDistinct checks spellings that must stay apart.
func TestCanonicalDistinct(t *testing.T) {
	for _, pair := range [][2]string{
		{"http://example.com/a%2Fb", "http://example.com/a/b"},
		{"http://example.com/a/", "http://example.com/a"},
		{"http://www.example.com/", "http://example.com/"},
		{"http://example.com/?q=a+b", "http://example.com/?q=a%20b"},
		{"http://example.com/?q=a%2Bb", "http://example.com/?q=a+b"},
		{"http://example.com/?a", "http://example.com/?a="},
		{"http://example.com/?a=1&a=2", "http://example.com/?a=2&a=1"},
		{"http://example.com/A", "http://example.com/a"},
		{"http://example.com/", "https://example.com/"},
		{"http://example.com:8080/", "http://example.com/"},
	} {
		a, errA := DefaultCanon.Canonical(pair[0])
		b, errB := DefaultCanon.Canonical(pair[1])
		if errA != nil || errB != nil {
			t.Errorf("Canonical(%q), Canonical(%q): %v, %v", pair[0], pair[1], errA, errB)
			continue
		}
		if a == b {
			t.Errorf("Canonical(%q) = Canonical(%q) = %q, want them distinct", pair[0], pair[1], a)
		}
	}
}

func TestCanonicalOptions(t *testing.T) {
	noSort := Canon{SortQuery: new(false)}
	sorted := Canon{SortQuery: new(true)}
	drop := Canon{DropParams: []string{"utm_*", "sessionid"}}
	slash := Canon{FoldTrailingSlash: true}
	www := Canon{FoldWWW: true}
	for _, tc := range []struct {
		name string
		c    Canon
		in   string
		want string
	}{
		{"sort by default", Canon{}, "http://e.com/?b=2&a=3&c=1&a=1", "http://e.com/?a=3&a=1&b=2&c=1"},
		{"sort_query true", sorted, "http://e.com/?b=2&a=3&c=1&a=1", "http://e.com/?a=3&a=1&b=2&c=1"},
		{"sort_query false", noSort, "http://e.com/?b=2&a=3&c=1&a=1", "http://e.com/?b=2&a=3&c=1&a=1"},
		{"sort_query false, still normalised", noSort, "http://e.com/?b=%7e&&a", "http://e.com/?b=~&a"},
		{"sort keys without values", Canon{}, "http://e.com/?b&a=&a", "http://e.com/?a=&a&b"},

		{"drop none by default", Canon{}, "http://e.com/?utm_source=x&id=3", "http://e.com/?id=3&utm_source=x"},
		{"drop exact and prefix", drop, "http://e.com/?utm_source=x&id=3&sessionid=abc&utm_medium=y&utmx=1", "http://e.com/?id=3&utmx=1"},
		{"drop is case-sensitive", drop, "http://e.com/?SessionID=1&UTM_source=2", "http://e.com/?SessionID=1&UTM_source=2"},
		{"drop decodes keys", drop, "http://e.com/?utm%5Fsource=x&session%69d=1&id=3", "http://e.com/?id=3"},
		{"drop everything", drop, "http://e.com/p?utm_source=x&sessionid", "http://e.com/p"},
		{"drop keeps order when not sorting", Canon{SortQuery: new(false), DropParams: []string{"b"}}, "http://e.com/?c=1&b=2&a=3", "http://e.com/?c=1&a=3"},
		{"drop all with *", Canon{DropParams: []string{"*"}}, "http://e.com/?a=1&b=2", "http://e.com/"},
		{"drop form-encoded key", Canon{DropParams: []string{"a b"}}, "http://e.com/?a+b=1&a%20b=2&ab=3", "http://e.com/?ab=3"},

		{"trailing slash kept by default", Canon{}, "http://e.com/a/", "http://e.com/a/"},
		{"trailing slash folded", slash, "http://e.com/a/", "http://e.com/a"},
		{"trailing slashes folded", slash, "http://e.com/a//?x=1", "http://e.com/a?x=1"},
		{"root kept", slash, "http://e.com/", "http://e.com/"},
		{"root of slashes", slash, "http://e.com///", "http://e.com/"},
		{"escaped slash is not folded", slash, "http://e.com/a%2F", "http://e.com/a%2F"},
		{"no slash already", slash, "http://e.com/a", "http://e.com/a"},

		{"www kept by default", Canon{}, "http://www.e.com/", "http://www.e.com/"},
		{"www folded", www, "http://www.e.com/", "http://e.com/"},
		{"www folded, upper case", www, "http://WWW.E.com:8080/x", "http://e.com:8080/x"},
		{"www folded twice", www, "http://www.www.e.com/", "http://e.com/"},
		{"www.com kept", www, "http://www.com/", "http://www.com/"},
		{"www-less kept", www, "http://wwwe.com/", "http://wwwe.com/"},
		{"www with userinfo", www, "http://u@www.e.com/", "http://u@e.com/"},

		{"all options", Canon{SortQuery: new(false), DropParams: []string{"utm_*"}, FoldTrailingSlash: true, FoldWWW: true},
			"HTTPS://WWW.Example.com:443/a/b/?z=1&utm_campaign=x&a=2#top", "https://example.com/a/b?z=1&a=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Canonical(tc.in)
			if err != nil {
				t.Fatalf("Canonical(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Canonical(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if again, err := tc.c.Canonical(got); err != nil || again != got {
				t.Errorf("Canonical(%q): got %q, %v, want it unchanged", got, again, err)
			}
		})
	}
}

func TestCanonicalUnchanged(t *testing.T) {
	for _, s := range []string{
		"http://example.com/",
		"https://example.com/a/b.html",
		"https://example.com/a/b?a=1&a=0&b=&c",
		"https://sub.example.co.uk/~u/a-b_c.d/%2F%C3%A9/(x)!$&'*+,;=:@",
		"https://example.com/?q=%E2%82%AC&r=/?:@",
		"http://xn--bcher-kva.example/",
		"http://127.0.0.1:8080/x",
		"http://[::1]/",
		"mailto:someone@example.com",
		"file:///tmp/x",
	} {
		got, err := DefaultCanon.Canonical(s)
		if err != nil {
			t.Errorf("Canonical(%q): %v", s, err)
			continue
		}
		if got != s {
			t.Errorf("Canonical(%q): got %q, want it unchanged", s, got)
		}
	}
}

// TestCanonicalFastPath checks that canonical http(s) URLs skip the parser
// and do not allocate, and that the fast path declines what it must.
func TestCanonicalFastPath(t *testing.T) {
	for _, s := range []string{
		"http://example.com/",
		"https://example.com/a/b.html",
		"https://example.com/a/b?a=1&a=0&b=&c",
		"https://example.com/caf%C3%A9?q=%E2%82%AC",
		"http://1.2.3.4/",
		"http://127.0.0.1:8080/p/1?a=1",
		"https://example.com:8443/",
		"http://example.com:443/",
	} {
		if !DefaultCanon.isCanonical(s) {
			t.Errorf("isCanonical(%q): got false, want true", s)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = DefaultCanon.Fingerprint(s) }); n != 0 {
			t.Errorf("Fingerprint(%q): got %v allocs, want 0", s, n)
		}
	}
	for _, tc := range []struct {
		c Canon
		s string
	}{
		{Canon{}, "http://example.com"},
		{Canon{}, "http://Example.com/"},
		{Canon{}, "http://example.com:80/"},
		{Canon{}, "http://example.com/#f"},
		{Canon{}, "http://example.com/?"},
		{Canon{}, "http://example.com/?a&"},
		{Canon{}, "http://example.com/?b&a"},
		{Canon{}, "http://example.com/%7e"},
		{Canon{}, "http://example.com/%c3%a9"},
		{Canon{}, "http://example.com/a/./b"},
		{Canon{}, "http://example.com/a|b"},
		{Canon{}, "http://example.com/?'"},
		{Canon{}, "http://127.1/"},
		{Canon{}, "http://01.2.3.4/"},
		{Canon{}, "http://1.2.3.256/"},
		{Canon{}, "http://1.2.3.4.5/"},
		{Canon{}, "http://1.2.3/"},
		{Canon{}, "http://2130706433/"},
		{Canon{}, "http://1.2.3.4:080/"},
		{Canon{}, "https://example.com:443/"},
		{Canon{}, "http://example.com:/"},
		{Canon{}, "http://example.com:99999/"},
		{Canon{}, "http://example.com:8080:1/"},
		{Canon{}, "http://xn--bcher-kva.example/"},
		{Canon{DropParams: []string{"a"}}, "http://example.com/?a=1"},
		{Canon{FoldTrailingSlash: true}, "http://example.com/a/"},
		{Canon{FoldWWW: true}, "http://www.example.com/"},
	} {
		if tc.c.isCanonical(tc.s) {
			t.Errorf("isCanonical(%q) with %+v: got true, want false", tc.s, tc.c)
		}
	}
}

func TestCanonicalErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		err error
	}{
		{"", ErrNotAbsolute},
		{"/relative/path", ErrNotAbsolute},
		{"example.com/a", ErrNotAbsolute},
		{"//example.com/a", ErrNotAbsolute},
		{"http://exa mple.com/", nil},
		{"http://[::1", nil},
		{"https://example.com:65536/", nil},
		{"http://", nil},
		{"http://a{b}.example/", nil},
		// IDNA encodes a label this long to punycode that it cannot decode.
		{"http://ħ" + strings.Repeat("o", 1500) + ".com/", nil},
	} {
		t.Run(fmt.Sprintf("%.40s", tc.in), func(t *testing.T) {
			got, err := DefaultCanon.Canonical(tc.in)
			if err == nil {
				t.Fatalf("Canonical(%q): got %q, want an error", tc.in, got)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("Canonical(%q): got error %v, want %v", tc.in, err, tc.err)
			}
			if _, err := DefaultCanon.Fingerprint(tc.in); err == nil {
				t.Errorf("Fingerprint(%q): got no error", tc.in)
			}
		})
	}
}

// TestFingerprintStable pins fingerprints: they are persisted, so they must
// not change between runs, processes or releases.
func TestFingerprintStable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"http://example.com/", 0xfdb57b2d0813b5b1},
		{"HTTP://EXAMPLE.COM", 0xfdb57b2d0813b5b1},
		{"https://example.com/a?b=2&a=1", 0xe3c1984096a5e3d9},
	} {
		got, err := DefaultCanon.Fingerprint(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("Fingerprint(%q): got %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Canon
		ok   bool
	}{
		{"zero", Canon{}, true},
		{"default", DefaultCanon, true},
		{"all set", Canon{SortQuery: new(false), DropParams: []string{"utm_*", "sessionid", "*"}, FoldTrailingSlash: true, FoldWWW: true}, true},
		{"empty entry", Canon{DropParams: []string{"a", ""}}, false},
		{"star in the middle", Canon{DropParams: []string{"utm_*_id"}}, false},
		{"star at the start", Canon{DropParams: []string{"*_id"}}, false},
		{"two stars", Canon{DropParams: []string{"a**"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.ok && err != nil {
				t.Errorf("got %v, want nil", err)
			}
			if !tc.ok && err == nil {
				t.Error("got nil, want an error")
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a/", MaxLength/2)
	if _, err := DefaultCanon.Canonical(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Canonical(long): got %v, want ErrTooLong", err)
	}
	if _, err := ParseBase(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("ParseBase(long): got %v, want ErrTooLong", err)
	}
	b, err := ParseBase("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	for _, href := range []string{long, long[len("https://example.com"):], "#" + long} {
		_, err := b.Resolve(href)
		if !errors.Is(err, ErrTooLong) {
			t.Errorf("Resolve(%.30q...): got %v, want ErrTooLong", href, err)
		}
		if len(err.Error()) > 300 {
			t.Errorf("Resolve(%.30q...): error of %d bytes, want it shortened", href, len(err.Error()))
		}
	}
	// Percent-encoding can take a short href over the limit.
	if _, err := b.Resolve("/" + strings.Repeat("é", MaxLength/3)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Resolve(encoded long): got %v, want ErrTooLong", err)
	}
	// Up to the limit is fine.
	ok := "https://example.com/" + strings.Repeat("a", MaxLength-len("https://example.com/"))
	if got, err := b.Resolve(ok); err != nil || got != ok {
		t.Errorf("Resolve(%d bytes): got %d bytes, %v", len(ok), len(got), err)
	}
	if got, err := DefaultCanon.Canonical(ok); err != nil || got != ok {
		t.Errorf("Canonical(%d bytes): got %d bytes, %v", len(ok), len(got), err)
	}
}
