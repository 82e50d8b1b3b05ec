// Package redistest gives tests a real Redis server: the one named by
// CRAWL_TEST_REDIS (host:port), as .ci/run starts it, or else a
// redis-server child of the test on a free loopback port. Without either,
// a test fails when CI is set and is skipped otherwise.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// URL returns the redis:// URL of a server for t, with a key parameter
// that no other test uses, so that tests sharing a server do not meet.
// Keys under that name are deleted when t ends.
func URL(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("CRAWL_TEST_REDIS")
	if addr == "" {
		addr = start(t)
	}
	name := Name(t)
	t.Cleanup(func() { deleteKeys(addr, name) })
	return fmt.Sprintf("redis://%s/0?key=%s", addr, name)
}

var count atomic.Int64

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Name returns a crawl name for t that no other test, in this process or
// another, uses.
func Name(t testing.TB) string {
	return fmt.Sprintf("test-%s-%d-%d", unsafe.ReplaceAllString(t.Name(), "_"), os.Getpid(), count.Add(1))
}

// start runs a redis-server for t alone, with no persistence, and returns
// its address.
func start(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no Redis for the test: CRAWL_TEST_REDIS is not set and redis-server is not installed")
		}
		t.Skip("no Redis: set CRAWL_TEST_REDIS=HOST:PORT or install redis-server")
	}
	return Start(t).Addr
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until the server at addr answers, or has exited.
func waitReady(addr string, exited <-chan struct{}) error {
	c := client(addr)
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server at %s does not answer: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deleteKeys removes the keys of the crawl name from the server at addr.
func deleteKeys(addr, name string) {
	c := client(addr)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "crawl:"+name+":*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

// client returns a client of the server at addr that makes no handshakes
// an older server would refuse.
func client(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                     addr,
		DisableIdentity:          true,
		MaxRetries:               -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}
