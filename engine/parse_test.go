package engine_test

import (
	"context"
	"iter"
	"net/http"
	"sync"
	"testing"
	"time"

	"crawl/downloader"
	"crawl/engine"
	"crawl/item"
	"crawl/spider"
)

// slowParser is a spider whose pages take until the context is done to
// parse, as a page far too deep for its selectors would.
type slowParser struct {
	*spider.Spider
	once    sync.Once
	parsing chan struct{} // closed when the first page is being parsed
}

func (p *slowParser) ParseContext(ctx context.Context, resp *downloader.Response) iter.Seq[spider.Result] {
	return func(yield func(spider.Result) bool) {
		p.once.Do(func() { close(p.parsing) })
		<-ctx.Done()
		yield(spider.Result{Err: ctx.Err(), URL: resp.URL})
	}
}

// TestCancelDuringParse cancels a crawl while its one page is being
// parsed: Run must return, because the page is parsed under the worker's
// context, where it used to wait for the parse to end, however long.
func TestCancelDuringParse(t *testing.T) {
	checkLeaks(t)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<h1>x</h1>"))
	}))
	sp := &slowParser{
		Spider:  loadSpider(t, "start_urls: [\"{{URL}}/\"]\nitems: [{fields: {title: h1}}]\n", srv.URL),
		parsing: make(chan struct{}),
	}
	dl := downloader.New(downloader.Config{})
	defer dl.Close()
	e := engine.New(engine.Config{Workers: 2}, sp, dl)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, make(chan *item.Item))
		errc <- err
	}()
	// A hang guard, not a measure: the parse must start, and Run must
	// return once cancelled.
	guard := time.NewTimer(time.Minute)
	defer guard.Stop()
	select {
	case <-sp.parsing:
	case <-guard.C:
		t.Fatal("the page was never parsed")
	}
	e.Stop(engine.Interrupted) // a graceful stop waits for the page...
	cancel()                   // ...until the grace period is over
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Errorf("Run error = %v, want context.Canceled", err)
		}
	case <-guard.C:
		t.Fatal("Run did not return: the parse ignored the context")
	}
}
