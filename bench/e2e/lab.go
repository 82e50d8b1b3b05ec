package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"crawl/bench"
)

// lab runs the child processes of the experiments: the crawl binary, and
// this program as the site and as the baselines.
type lab struct {
	o     *options
	self  string // this program
	crawl string // the crawl binary
	dir   string // scratch: spider and stats files
	log   io.Writer
	files int // spider files written so far
}

// measure is what one run of a child process measured.
type measure struct {
	wall    time.Duration // from starting the process to its exit
	usage   bench.Usage   // the child's CPU time and peak memory
	pages   int64
	items   int64
	elapsed time.Duration // the crawl's own, from its stats file
	reason  string        // why the crawl ended
}

// rate returns pages per second of wall time.
func (m measure) rate() float64 { return float64(m.pages) / max(m.wall.Seconds(), 1e-9) }

// cpuPerPage returns CPU milliseconds per page.
func (m measure) cpuPerPage() float64 {
	return float64(m.usage.CPU()) / float64(time.Millisecond) / float64(max(m.pages, 1))
}

// newLab builds crawl into a temporary directory; call close to remove it.
func newLab(ctx context.Context, o *options, log io.Writer) (*lab, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program: %w", err)
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return nil, errors.New("run e2e inside the crawl module: go run ./bench/e2e")
	}
	dir, err := os.MkdirTemp("", "crawl-e2e-")
	if err != nil {
		return nil, err
	}
	l := &lab{o: o, self: self, crawl: filepath.Join(dir, "crawl"), dir: dir, log: log}
	fmt.Fprintf(log, "building crawl into %s\n", l.crawl)
	build := exec.CommandContext(ctx, "go", "build", "-o", l.crawl, "./cmd/crawl")
	build.Dir = filepath.Dir(gomod)
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("go build ./cmd/crawl: %w", err)
	}
	return l, nil
}

func (l *lab) close() { os.RemoveAll(l.dir) }

// siteProc is a running -serve child.
type siteProc struct {
	base  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startSite starts the site in a child process: a shop of at least pages
// pages, a chain of chain pages, and the wide tree, answering after
// latency.
func (l *lab) startSite(ctx context.Context, pages, chain int, latency time.Duration) (*siteProc, error) {
	cmd := exec.CommandContext(ctx, l.self, "-serve", "-pages", strconv.Itoa(pages),
		"-chain", strconv.Itoa(chain), "-site-latency", latency.String())
	cmd.Stderr = l.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the site: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stdin.Close()
		cmd.Wait()
		return nil, fmt.Errorf("start the site: no URL: %w", err)
	}
	return &siteProc{base: strings.TrimSpace(line), cmd: cmd, stdin: stdin}, nil
}

// stop ends the site (closing its stdin tells it to) and returns what it
// used.
func (s *siteProc) stop() bench.Usage {
	s.stdin.Close()
	s.cmd.Wait()
	if ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return bench.RusageOf(ru)
	}
	return bench.Usage{}
}

// child runs prog with args under the time limit and returns what it
// used; its stdout goes to stdout (nil: discarded).
func (l *lab) child(ctx context.Context, stdout io.Writer, prog string, args ...string) (measure, error) {
	ctx, cancel := context.WithTimeout(ctx, l.o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(began)}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w\n%s", filepath.Base(prog), strings.Join(args, " "), err, stderr.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.usage = bench.RusageOf(ru)
	}
	return m, nil
}

// spiderFile writes a spider file into the scratch directory.
func (l *lab) spiderFile(spec []byte) (string, error) {
	l.files++
	path := filepath.Join(l.dir, fmt.Sprintf("spider-%d.yaml", l.files))
	return path, os.WriteFile(path, spec, 0o644)
}

// runCrawl runs `crawl run` with the spider spec and the extra flags, its
// items discarded, and reads back its statistics.
func (l *lab) runCrawl(ctx context.Context, spec []byte, flags ...string) (measure, error) {
	path, err := l.spiderFile(spec)
	if err != nil {
		return measure{}, err
	}
	statsPath := path + ".stats.json"
	m, err := l.child(ctx, nil, l.crawl, append([]string{"run", path, "-q", "--stats", statsPath}, flags...)...)
	if err != nil {
		return m, err
	}
	data, err := os.ReadFile(statsPath)
	if err != nil {
		return m, err
	}
	var st struct {
		Reason   string           `json:"reason"`
		Elapsed  float64          `json:"elapsed_seconds"`
		Counters map[string]int64 `json:"counters"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return m, fmt.Errorf("read %s: %w", statsPath, err)
	}
	m.pages, m.items, m.reason = st.Counters["pages"], st.Counters["items/written"], st.Reason
	m.elapsed = time.Duration(st.Elapsed * float64(time.Second))
	return m, nil
}

// runGetter runs a baseline getter ("plain" or "goquery") over a shop of
// pages pages at base.
func (l *lab) runGetter(ctx context.Context, kind, base string, pages, workers int) (measure, error) {
	var out bytes.Buffer
	m, err := l.child(ctx, &out, l.self, "-get", kind, "-base", base,
		"-pages", strconv.Itoa(pages), "-workers", strconv.Itoa(workers))
	if err != nil {
		return m, err
	}
	var size int64
	if _, err := fmt.Sscanf(out.String(), "%d pages %d bytes", &m.pages, &size); err != nil {
		return m, fmt.Errorf("getter said %q: %w", out.String(), err)
	}
	return m, nil
}

// firstItem runs `crawl run` with spec and returns the time from starting
// the process to the first byte of its first item on stdout; the crawl is
// then left to finish.
func (l *lab) firstItem(ctx context.Context, spec []byte, flags ...string) (time.Duration, error) {
	path, err := l.spiderFile(spec)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.crawl, append([]string{"run", path, "-q"}, flags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var b [1]byte
	_, readErr := io.ReadFull(stdout, b[:])
	first := time.Since(began)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("crawl run: %w\n%s", err, stderr.Bytes())
	}
	if readErr != nil {
		return 0, fmt.Errorf("crawl run wrote no item: %w", readErr)
	}
	return first, nil
}

// median returns the median of f over ms.
func median(ms []measure, f func(measure) float64) float64 {
	vs := make([]float64, len(ms))
	for i, m := range ms {
		vs[i] = f(m)
	}
	return medianOf(vs)
}

func medianOf(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if n := len(vs); n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
	return vs[len(vs)/2]
}
