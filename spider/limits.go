package spider

import (
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// The most a spider file may hold. A spider is a page of YAML; these are
// far beyond any real one, and keep Load quick and within tens of
// megabytes of memory on a hostile or generated file (a 100 MB file, or a
// few lines of aliases that expand to billions of nodes).
const (
	// MaxFileSize is the most bytes a spider file may have. Long lists of
	// start URLs belong in start_urls_file, which has no limit.
	MaxFileSize = 256 << 10
	// MaxNodes is the most YAML values (scalars, lists and mappings) the
	// file may hold, each use of an alias counting as many as it names.
	MaxNodes = 100_000
	// MaxDepth is the most lists and mappings one value may be nested in.
	MaxDepth = 50
	// MaxRules is the most entries of follow, items or sitemap_rules.
	MaxRules = 1000
	// MaxFields is the most fields one item rule (or sub-item) may have.
	MaxFields = 1000
)

// ReadSettingsFile is ReadSettings for the file at path, read only as far
// as MaxFileSize.
func ReadSettingsFile(path string) []Setting {
	data, err := readLimited(path)
	if err != nil {
		return nil
	}
	return ReadSettings(path, data)
}

// readLimited reads the spider file at path, refusing one bigger than
// MaxFileSize without reading more than that.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read spider: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read spider: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, SpecErrors{tooBig(path)}
	}
	return data, nil
}

func tooBig(file string) *SpecError {
	return &SpecError{File: file, Msg: fmt.Sprintf("the file is bigger than %d KiB, the most a spider file may be "+
		"(put long lists of start URLs in start_urls_file)", MaxFileSize>>10)}
}

// sizeCheck walks a parsed spider file, aliases expanded, and reports the
// first limit it exceeds, before the compiler walks it. It visits each
// node at most once per path to it and stops at MaxNodes, so hostile
// aliasing costs no more than MaxNodes steps.
type sizeCheck struct {
	nodes int
	err   *SpecError
	file  string
}

func (s *sizeCheck) fail(n *yaml.Node, format string, args ...any) {
	if s.err == nil {
		s.err = &SpecError{File: s.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
	}
}

// walk counts n and what it holds; key is the mapping key n is the value
// of, for the limits on rules and fields.
func (s *sizeCheck) walk(n *yaml.Node, key string, depth int) {
	if s.err != nil {
		return
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s.walk(n.Alias, key, depth)
		if s.err != nil {
			// Point at the use of the alias, the outermost one last.
			s.err.Line, s.err.Col = n.Line, n.Column
		}
		return
	}
	s.nodes++
	switch {
	case s.nodes > MaxNodes:
		s.fail(n, "the file holds more than %d values (each use of an alias counts all it names), the most a spider file may", MaxNodes)
		return
	case depth > MaxDepth:
		s.fail(n, "values nested more than %d deep, the most a spider file may", MaxDepth)
		return
	}
	switch {
	case (key == "follow" || key == "items" || key == "sitemap_rules") && n.Kind == yaml.SequenceNode && len(n.Content) > MaxRules:
		s.fail(n, "%s: %d rules, more than the %d a spider file may have", key, len(n.Content), MaxRules)
		return
	case key == "fields" && n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxFields:
		s.fail(n, "fields: %d fields, more than the %d an item may have", len(n.Content)/2, MaxFields)
		return
	}
	for i, c := range n.Content {
		k := ""
		if n.Kind == yaml.MappingNode && i%2 == 1 {
			k = n.Content[i-1].Value
		}
		s.walk(c, k, depth+1)
	}
}
