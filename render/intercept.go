package render

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"crawl/downloader"
)

// blockTypes maps the names of Render.Block (downloader.RenderBlockTypes)
// to the browser's resource types.
var blockTypes = map[string][]network.ResourceType{
	"image":      {network.ResourceTypeImage},
	"font":       {network.ResourceTypeFont},
	"media":      {network.ResourceTypeMedia},
	"stylesheet": {network.ResourceTypeStylesheet},
}

// intercept answers every request the page makes until s.ctx is done: the
// document itself from what was fetched, the rest through pg.Fetch. Each
// answer runs in a goroutine of its own, counted in wg.
func (s *session) intercept(wg *sync.WaitGroup) {
	paused := chromedp.Events(s.ctx, fetch.RequestPaused)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range paused {
			if err != nil {
				return
			}
			s.inflight.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.inflight.Add(-1)
				s.answer(&ev)
			}()
		}
	}()
}

// answer answers one paused request. Errors of the protocol are left to
// the page: a request not answered before the page's context ends is
// cancelled with the tab's navigation.
func (s *session) answer(ev *fetch.EventRequestPaused) {
	ctx := s.ctx
	if ev.ResourceType == network.ResourceTypeDocument && ev.FrameID == s.main && s.served.CompareAndSwap(false, true) {
		s.fulfill(ev.RequestID, s.pg.Status, s.pg.Header, "text/html; charset=utf-8", s.pg.Body)
		return
	}
	if s.blocked(ev.ResourceType) {
		s.p.cfg.Stats.Inc(StatBlocked)
		s.fail(ev.RequestID, network.ErrorReasonBlockedByClient)
		return
	}
	// The downloader carries HTTP(S) only: a WebSocket's handshake
	// (ws://, wss://) fails here, before it reaches anything.
	u := ev.Request.URL
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || s.pg.Fetch == nil {
		s.p.cfg.Stats.Inc(StatDenied)
		s.fail(ev.RequestID, network.ErrorReasonAccessDenied)
		return
	}
	req := &downloader.Request{
		URL:        ev.Request.URL,
		Method:     ev.Request.Method,
		Header:     requestHeader(ev.Request.Headers),
		Depth:      s.pg.Request.Depth,
		PublicOnly: s.pg.PublicOnly,
	}
	for _, e := range ev.Request.PostDataEntries {
		req.Body = append(req.Body, e.Bytes...)
	}
	resp, err := s.pg.Fetch(ctx, req)
	if err != nil {
		s.p.cfg.Stats.Inc(StatDenied)
		s.p.cfg.Log.Debug("request of a rendered page failed", "page", s.pg.URL, "url", req.URL, "error", err)
		reason := network.ErrorReasonFailed
		if errors.Is(err, downloader.ErrPrivateAddress) || errors.Is(err, downloader.ErrRobotsDenied) {
			reason = network.ErrorReasonAccessDenied
		}
		s.fail(ev.RequestID, reason)
		return
	}
	ctype := ""
	if resp.Charset != "" {
		// The downloader decoded the body to UTF-8.
		ctype = resp.ContentType() + "; charset=utf-8"
	}
	s.fulfill(ev.RequestID, resp.Status, resp.Header, ctype, resp.Body)
	if s.capture != nil && (ev.ResourceType == network.ResourceTypeXHR || ev.ResourceType == network.ResourceTypeFetch) &&
		s.capture.MatchString(req.URL) {
		s.p.cfg.Stats.Inc(StatCaptured)
		s.mu.Lock()
		s.captured = append(s.captured, resp)
		s.mu.Unlock()
	}
}

func (s *session) blocked(t network.ResourceType) bool {
	for _, name := range s.opts.Block {
		if slices.Contains(blockTypes[name], t) {
			return true
		}
	}
	return false
}

// requestHeader is the header of a browser's request as the downloader
// should send it: without what the downloader sets itself.
func requestHeader(h network.Headers) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		switch http.CanonicalHeaderKey(k) {
		case "User-Agent", "Accept-Encoding", "Host", "Connection", "Content-Length", "Cookie":
			continue
		}
		if s, ok := v.(string); ok {
			out.Set(k, s)
		}
	}
	return out
}

// skipHeaders are the response headers not handed to the browser: the
// body it gets is decompressed, whole, and of its own length.
var skipHeaders = map[string]bool{
	"Content-Encoding": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
}

func (s *session) fulfill(id fetch.RequestID, status int, h http.Header, ctype string, body []byte) {
	var headers []*fetch.HeaderEntry
	for k, vs := range h {
		if skipHeaders[k] || k == "Content-Type" && ctype != "" {
			continue
		}
		for _, v := range vs {
			headers = append(headers, &fetch.HeaderEntry{Name: k, Value: v})
		}
	}
	if ctype != "" {
		headers = append(headers, &fetch.HeaderEntry{Name: "Content-Type", Value: ctype})
	}
	if status == 0 {
		status = http.StatusOK
	}
	chromedp.Call(s.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID: id, ResponseCode: int64(status), ResponseHeaders: headers, Body: body,
	})
}

func (s *session) fail(id fetch.RequestID, reason network.ErrorReason) {
	chromedp.Call(s.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: reason})
}
