package engine

import (
	"encoding/binary"
	"time"

	"crawl/downloader"
)

// appendRender appends the fields of a Request.Render, in the order
// decoder.render reads them.
func appendRender(b []byte, r *downloader.Render) []byte {
	b = appendString(b, r.WaitFor)
	b = appendString(b, r.Wait)
	b = binary.AppendUvarint(b, uint64(r.Delay))
	b = binary.AppendUvarint(b, uint64(r.Scroll))
	b = binary.AppendUvarint(b, uint64(len(r.Actions)))
	for _, a := range r.Actions {
		b = appendString(b, a.Kind)
		b = appendString(b, a.Selector)
		b = appendString(b, a.Text)
		b = binary.AppendUvarint(b, uint64(a.N))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Block)))
	for _, t := range r.Block {
		b = appendString(b, t)
	}
	b = appendString(b, r.Capture)
	return binary.AppendUvarint(b, uint64(r.Timeout))
}

// render reads what appendRender wrote.
func (d *decoder) render() *downloader.Render {
	r := &downloader.Render{WaitFor: d.string(), Wait: d.string()}
	r.Delay = time.Duration(d.uint())
	r.Scroll = int(d.uint())
	if n := d.count(); n > 0 && d.err == nil {
		r.Actions = make([]downloader.RenderAction, n)
		for i := range r.Actions {
			a := &r.Actions[i]
			a.Kind, a.Selector, a.Text = d.string(), d.string(), d.string()
			a.N = int(d.uint())
		}
	}
	if n := d.count(); n > 0 && d.err == nil {
		r.Block = make([]string, n)
		for i := range r.Block {
			r.Block[i] = d.string()
		}
	}
	r.Capture = d.string()
	r.Timeout = time.Duration(d.uint())
	return r
}
