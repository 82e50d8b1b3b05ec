package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server child of one test, on a loopback port and in
// a directory of its own, that the test may kill, restart, pause and
// flush. It is stopped when the test ends.
type Server struct {
	// Addr is the server's host:port; it stays the same across restarts.
	Addr string

	t    testing.TB
	bin  string
	port int
	dir  string
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs a redis-server for t with the extra configuration args
// (such as "--appendonly", "yes"); without any it keeps nothing on disk.
// With no redis-server installed, t fails when CI is set and is skipped
// otherwise.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no redis-server for the test: install it (apt-get install redis-server)")
		}
		t.Skip("no redis-server: install it to run this test")
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: args}
	var lastErr error
	for range 5 {
		if s.port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return nil
}

// start runs the server and waits until it answers.
func (s *Server) start() error {
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--loglevel", "warning"}, s.args...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	if err := waitReady(s.Addr, exited); err != nil {
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%w (redis-server: %v)", err, waitErr)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// URL returns a redis:// URL of the server with a crawl name of t's own.
func (s *Server) URL(t testing.TB) string {
	return fmt.Sprintf("redis://%s/0?key=%s", s.Addr, Name(t))
}

// Kill stops the server at once (SIGKILL), as a crash would, and waits
// for it to exit. It does nothing when the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-exited
}

// Restart starts the killed server again, on the same port and with the
// same directory: what it remembers depends on its persistence options.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart redis-server: %v", err)
	}
}

// Pause stops the server's process (SIGSTOP) until Resume: it keeps its
// connections and answers nothing.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		s.t.Fatal("redis-server is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal redis-server: %v", err)
	}
}

// Client returns a client of the server; close it when done.
func (s *Server) Client() *redis.Client { return client(s.Addr) }

// Do runs one command on the server, failing the test on an error.
func (s *Server) Do(args ...any) any {
	s.t.Helper()
	c := s.Client()
	defer c.Close()
	v, err := c.Do(context.Background(), args...).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		s.t.Fatalf("redis %v: %v", args, err)
	}
	return v
}
