package spider

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/bad")

// TestLoadBad loads every spider in testdata/bad and compares the error
// with the .golden file next to it.
func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no spiders in testdata/bad")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			s, err := Load(file)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", file, s)
			}
			var specErrs SpecErrors
			if !errors.As(err, &specErrs) {
				t.Fatalf("Load(%s) error is %T, want SpecErrors", file, err)
			}
			var first *SpecError
			if !errors.As(err, &first) || first != specErrs[0] {
				t.Errorf("errors.As(err, *SpecError) does not find the first problem")
			}
			for i := 1; i < len(specErrs); i++ {
				if specErrs[i].Line < specErrs[i-1].Line {
					t.Errorf("problems not sorted by line: %d before %d", specErrs[i-1].Line, specErrs[i].Line)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s) error:\ngot:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	abs, err := filepath.Abs("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file       string
		name       string
		domains    []string
		settings   []Setting
		startURLs  []string
		startFile  string
		startRange *urlRange
		follow     int
		items      []string // rule name: required fields
	}{
		{
			file:    "testdata/good/books.yaml",
			name:    "books",
			domains: []string{"books.toscrape.com"},
			settings: []Setting{
				{Key: "workers", Value: "4", Line: 30, Col: 3},
				{Key: "rate", Value: "2.5", Line: 31, Col: 3},
				{Key: "user-agent", Value: "crawl-test/1.0", Line: 32, Col: 3},
				{Key: "depth", Value: "3", Line: 33, Col: 3},
			},
			startURLs: []string{"https://books.toscrape.com/"},
			follow:    2,
			items:     []string{"book: title", "listing: title, price"},
		},
		{
			file:      "testdata/good/local.yaml",
			name:      "local", // from the file name
			domains:   []string{"example.com", "example.org", "::1"},
			startURLs: []string{"file://" + filepath.ToSlash(abs) + "/site/index.html", "file:///srv/site/a%20b.html", "http://127.0.0.1:8080/"},
			startFile: "testdata/good/urls.txt",
			startRange: &urlRange{
				template: "https://example.com/page/{n}", from: 1, to: 5000000, step: 1,
			},
			follow: 1,
			items:  []string{"item: "},
		},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			s, err := Load(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if s.File() != tt.file {
				t.Errorf("File() = %q, want %q", s.File(), tt.file)
			}
			if s.Name != tt.name {
				t.Errorf("Name = %q, want %q", s.Name, tt.name)
			}
			if !reflect.DeepEqual(s.AllowedDomains, tt.domains) {
				t.Errorf("AllowedDomains = %q, want %q", s.AllowedDomains, tt.domains)
			}
			if !reflect.DeepEqual(s.Settings, tt.settings) {
				t.Errorf("Settings = %+v, want %+v", s.Settings, tt.settings)
			}
			if !reflect.DeepEqual(s.startURLs, tt.startURLs) {
				t.Errorf("start URLs = %q, want %q", s.startURLs, tt.startURLs)
			}
			if s.startFile != filepath.FromSlash(tt.startFile) {
				t.Errorf("start URLs file = %q, want %q", s.startFile, tt.startFile)
			}
			if !reflect.DeepEqual(s.startRange, tt.startRange) {
				t.Errorf("start URLs range = %+v, want %+v", s.startRange, tt.startRange)
			}
			if len(s.follow) != tt.follow {
				t.Errorf("%d follow rules, want %d", len(s.follow), tt.follow)
			}
			var items []string
			for _, r := range s.items {
				items = append(items, r.name+": "+strings.Join(r.required, ", "))
			}
			if !reflect.DeepEqual(items, tt.items) {
				t.Errorf("item rules = %q, want %q", items, tt.items)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-spider.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want an error wrapping os.ErrNotExist", err)
	}
	var specErrs SpecErrors
	if errors.As(err, &specErrs) {
		t.Errorf("Load of a missing file returned SpecErrors, want a read error")
	}
}

func TestSpecErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *SpecError
		want string
	}{
		{"full", &SpecError{File: "books.yaml", Line: 12, Col: 14, Field: "items[0].fields.rating.regex", Msg: "invalid regex"}, "books.yaml:12:14: items[0].fields.rating.regex: invalid regex"},
		{"no column", &SpecError{File: "books.yaml", Line: 3, Msg: "invalid YAML: oops"}, "books.yaml:3: invalid YAML: oops"},
		{"no field", &SpecError{File: "books.yaml", Line: 3, Col: 1, Msg: `unknown key "x"`}, `books.yaml:3:1: unknown key "x"`},
		{"no line", &SpecError{File: "books.yaml", Msg: "spider file is empty"}, "books.yaml: spider file is empty"},
		{"nothing but a message", &SpecError{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		key  string
		want string
	}{
		{"allowed_domain", "allowed_domains"},
		{"alow", "allow"},
		{"Allow", "allow"},
		{"start_url", "start_urls"},
		{"start", "start_urls"},
		{"start_urls_fil", "start_urls_file"},
		{"xy", ""},
		{"zzzzzz", ""},
	}
	valid := append(append([]string{}, topKeys...), followKeys...)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := suggest(tt.key, valid); got != tt.want {
				t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// TestLoadEverything loads a spider with every key and checks what the
// Spider exposes of them.
func TestLoadEverything(t *testing.T) {
	s, err := Load("testdata/good/everything.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ItemRules(); !reflect.DeepEqual(got, []string{"product", "api"}) {
		t.Errorf("ItemRules = %q", got)
	}
	if s.FollowRules() != 5 || !s.SitemapFromRobots() || !s.respectNofollow || len(s.sitemapRules) != 2 {
		t.Errorf("FollowRules = %d, SitemapFromRobots = %v, nofollow %v, %d sitemap rules", s.FollowRules(), s.SitemapFromRobots(), s.respectNofollow, len(s.sitemapRules))
	}
	if !s.Canon.FoldWWW || !reflect.DeepEqual(s.Canon.DropParams, []string{"utm_*"}) || s.Canon.SortQuery != nil {
		t.Errorf("Canon = %+v", s.Canon)
	}
	if got := s.sitemapSince.Format("2006-01-02"); got != "2024-01-31" {
		t.Errorf("sitemap_since = %s", got)
	}
	if ks := s.Contracts(); len(ks) != 1 || ks[0].Rule != "product" || ks[0].URL != "https://example.com/p/1" || ks[0].Line != 49 {
		t.Errorf("got %d contracts, the first %+v", len(ks), *ks[0])
	}
	if r := s.follow[3]; r.method != "POST" || string(r.body) != "q=shoes" || r.header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.header.Get("X-Requested-With") != "XMLHttpRequest" {
		t.Errorf("form rule = %+v", r)
	}
	if !s.items[1].json || s.items[0].json || !s.hasJSON {
		t.Errorf("rule kinds: product JSON %v, api JSON %v", s.items[0].json, s.items[1].json)
	}
	if want := []string{"title", "price", "w", "h", "when", "tags", "words", "image", "shop", "lastmod", "variants"}; !reflect.DeepEqual(s.items[0].names, want) {
		t.Errorf("product fields = %q, want %q", s.items[0].names, want)
	}
}
