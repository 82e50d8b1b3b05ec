package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"crawl/engine/state"
	"crawl/pipeline"
	"crawl/stats"
)

// validateState checks what --state needs: one output, a file it can cut
// back to the last committed item, so JSON Lines or CSV, not a JSON array
// (whose closing bracket moves) or standard output (which cannot be cut).
func (o *runOptions) validateState() error {
	if o.stateDir == "" {
		return nil
	}
	if len(o.outputs) != 1 || o.outputs[0].Path == "-" {
		return errors.New("--state needs exactly one output file (-o FILE): standard output cannot be taken back to the last item saved")
	}
	if f := o.outputs[0].Format; f != pipeline.JSONLines && f != pipeline.CSV {
		return fmt.Errorf("--state works with JSON Lines or CSV output, not %s", f)
	}
	path := o.outputs[0].Path
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("--state needs its output to be a regular file, and %s is %s: a resumed crawl cuts the output back to the last item saved, which only a file allows", path, fileKind(fi.Mode()))
	}
	// A resumed crawl cuts the file back: no other crawl may append to it.
	o.outputs[0].Exclusive = true
	return nil
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

// openState opens the crawl's state directory and readies the output for
// it: when the crawl resumes, the output is cut back to the items of pages
// the state records as done, so the pages fetched again do not repeat them.
func (o *runOptions) openState(st *stats.Stats, log *slog.Logger) (*state.Frontier, error) {
	out := &o.outputs[0]
	path, err := filepath.Abs(out.Path)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	fr, err := state.Open(o.stateDir, state.Options{
		Spider:      o.spider.Name,
		Output:      path,
		Canon:       o.spider.Canon,
		Politeness:  o.engine.Politeness,
		QueueMemory: o.engine.QueueMemory,
		SpillDir:    o.engine.SpillDir,
		Order:       o.engine.Order,
		Stats:       st,
		Log:         log,
	})
	if err != nil {
		return nil, err
	}
	if !fr.Resumed() {
		return fr, nil
	}
	st.Inc(stats.Resumes)
	size := int64(0)
	switch fi, err := os.Stat(path); {
	case err == nil:
		size = fi.Size()
	case !errors.Is(err, fs.ErrNotExist):
		fr.Close()
		return nil, fmt.Errorf("output: %w", err)
	}
	if size < fr.Offset() {
		fr.Close()
		return nil, fmt.Errorf("output %s holds %d bytes, fewer than the %d the state in %s records: was it changed? Start afresh with another --state directory", out.Path, size, fr.Offset(), o.stateDir)
	}
	if size > fr.Offset() {
		if err := os.Truncate(path, fr.Offset()); err != nil {
			fr.Close()
			return nil, fmt.Errorf("cut the output back to the last item saved: %w", err)
		}
		log.Info("output cut back to the last page saved", "output", out.Path, "bytes", fr.Offset(), "removed", size-fr.Offset())
	}
	out.Overwrite = false // resuming: keep what the earlier runs wrote
	return fr, nil
}

// fileSize returns a function that reports the size of the file at path,
// or -1 when it cannot.
func fileSize(path string) func() int64 {
	return func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			return -1
		}
		return fi.Size()
	}
}
