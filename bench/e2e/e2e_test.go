package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"crawl/bench/site"
)

// TestGet runs both baseline getters over a small shop on 127.0.0.1.
func TestGet(t *testing.T) {
	opts := site.ForPages(42)
	s := site.New(opts)
	base, stop, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var urls []string
	var want int64
	for _, p := range opts.Paths() {
		urls = append(urls, base+p)
		body, _ := s.Page(p)
		want += int64(len(body))
	}
	for _, parse := range []bool{false, true} {
		pages, size, err := get(context.Background(), urls, 4, parse)
		if err != nil {
			t.Fatal(err)
		}
		if pages != 42 || size != want {
			t.Errorf("parse %v: got %d pages, %d bytes; want 42, %d", parse, pages, size, want)
		}
	}
	if _, _, err := get(context.Background(), []string{base + "/nowhere"}, 1, false); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("a missing page: got error %v, want status 404", err)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-workers", "2,8", "-only", "chain,first"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.workers) != 2 || o.workers[1] != 8 || !o.only["chain"] || o.only["throughput"] {
		t.Errorf("got workers %v, only %v", o.workers, o.only)
	}
	for _, args := range [][]string{
		{"-workers", "0"},
		{"-only", "speed"},
		{"-get", "curl", "-base", "http://127.0.0.1:1"},
		{"-get", "plain"},
		{"-latency", "0s"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := medianOf(tc.in); got != tc.want {
			t.Errorf("medianOf(%v) = %g, want %g", tc.in, got, tc.want)
		}
	}
}
