package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"crawl/spider"
)

// flagError is a flag's value that crawl cannot use. The same value may
// come from the command line or from the spider file's settings, and the
// message names whichever the user wrote: "--workers must be at least 1,
// got 0" or "spider.yaml:4: settings.workers: must be at least 1, got 0".
type flagError struct {
	flag string
	msg  string // "must be at least 1, got 0"
}

// Error names the flag: "--workers must be at least 1, got 0", or
// "--order: "random" is not one of bfs, dfs" for a msg that starts with ": ".
func (e flagError) Error() string {
	if strings.HasPrefix(e.msg, ": ") {
		return "--" + e.flag + e.msg
	}
	return "--" + e.flag + " " + e.msg
}

// oneOf is the message of a flagError for a value not in a list.
func oneOf(value, list string) string {
	return fmt.Sprintf(": %q is not one of %s", value, list)
}

// problems is every problem found before a command starts, one per line.
type problems []error

func (p problems) Error() string {
	lines := make([]string, len(p))
	for i, e := range p {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (p problems) Unwrap() []error { return p }

// reportProblems prints several problems one per line on stderr, as crawl
// check does, and returns a usageError that counts them; it returns err
// as it is otherwise.
func reportProblems(stderr io.Writer, file string, err error) error {
	var ps problems
	if !errors.As(err, &ps) || len(ps) < 2 {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(stderr, redact(p.Error()))
	}
	return usageError{fmt.Errorf("%s: %s", file, plural(len(ps), "problem", "problems"))}
}

// notSettings are the flags a spider file may not set: they say where this
// run's output goes, which is the caller's choice, not the spider's.
var notSettings = map[string]bool{"output": true, "overwrite-output": true, "help": true}

// applySettingList sets each flag named under `settings:` in the spider file
// that was not given on the command line: flags override the file. It
// returns every setting it could not apply, and the settings it applied by
// flag name, so that later problems with their values name the file.
func applySettingList(file string, settings []spider.Setting, flags *pflag.FlagSet) (map[string]spider.Setting, []error) {
	var names []string
	flags.VisitAll(func(f *pflag.Flag) {
		if !notSettings[f.Name] && !f.Hidden {
			names = append(names, f.Name)
		}
	})
	applied := map[string]spider.Setting{}
	var errs []error
	for _, s := range settings {
		name := strings.ReplaceAll(s.Key, "_", "-")
		f := flags.Lookup(name)
		if f == nil || notSettings[name] {
			msg := fmt.Sprintf("%s:%d:%d: settings: unknown setting %q", file, s.Line, s.Col, s.Key)
			if hint := spider.Suggest(name, names); hint != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", strings.ReplaceAll(hint, "-", "_"))
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if f.Changed {
			continue
		}
		old := f.Value.String()
		if err := f.Value.Set(s.Value); err != nil {
			f.Value.Set(old) // some Values keep what they half-parsed
			errs = append(errs, fmt.Errorf("%s:%d:%d: settings.%s: invalid value %q: %s", file, s.Line, s.Col, s.Key, s.Value, wantValue(f, err)))
			continue
		}
		applied[name] = s
	}
	return applied, errs
}

// inFile phrases each flagError about a value the spider file set as a
// problem at that setting's line; other errors are left as they are.
func inFile(file string, applied map[string]spider.Setting, errs []error) []error {
	out := make([]error, len(errs))
	for i, err := range errs {
		out[i] = err
		var fe flagError
		if errors.As(err, &fe) {
			if s, ok := applied[fe.flag]; ok {
				out[i] = fmt.Errorf("%s:%d:%d: settings.%s: %s", file, s.Line, s.Col, s.Key, strings.TrimPrefix(fe.msg, ": "))
			}
		}
	}
	return out
}

// load loads the spider file and applies its settings, returning every
// problem with the file, its settings and the values of the flags, sorted:
// the command line's first, then the file's by line. The error is for a
// file that cannot be read.
func (o *runOptions) load(flags *pflag.FlagSet) (problems, error) {
	var errs problems
	var settings []spider.Setting
	sp, err := spider.Load(o.specPath)
	var specErrs spider.SpecErrors
	switch {
	case errors.As(err, &specErrs):
		for _, e := range specErrs {
			errs = append(errs, e)
		}
		settings = spider.ReadSettingsFile(o.specPath)
	case err != nil:
		return nil, err
	default:
		settings = sp.Settings
	}
	o.spider = sp
	applied, serrs := applySettingList(o.specPath, settings, flags)
	errs = append(errs, serrs...)
	errs = append(errs, inFile(o.specPath, applied, o.checkValues())...)
	sortProblems(o.specPath, errs)
	return errs, nil
}

// sortProblems puts the problems without a place in the file first, then
// the others by line and column.
func sortProblems(file string, errs []error) {
	place := func(err error) (line, col int) {
		if rest, ok := strings.CutPrefix(err.Error(), file+":"); ok {
			fmt.Sscanf(rest, "%d:%d", &line, &col)
		}
		return line, col
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		la, ca := place(a)
		lb, cb := place(b)
		if la != lb {
			return la - lb
		}
		return ca - cb
	})
}

// checkValues returns every problem with the values of the flags of
// crawl run, whether the command line or the spider file set them.
func (o *runOptions) checkValues() []error {
	errs := append(validateEngine(&o.engine), validateDownload(&o.download)...)
	add := func(flag, format string, args ...any) {
		errs = append(errs, flagError{flag, fmt.Sprintf(format, args...)})
	}
	if o.grace < 0 {
		add("grace", "must not be negative, got %s", o.grace)
	}
	if o.maxTime < 0 {
		add("max-time", "must not be negative, got %s", o.maxTime)
	}
	if o.progressInterval <= 0 {
		add("progress-interval", "must be positive, got %s", o.progressInterval)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		add("log-format", "%s", oneOf(o.logFormat, "text, json"))
	}
	if o.maxItems < 0 {
		add("max-items", "must not be negative, got %d", o.maxItems)
	}
	if err := o.level.UnmarshalText([]byte(o.logLevel)); err != nil {
		add("log-level", "%s", oneOf(o.logLevel, "debug, info, warn, error"))
	}
	return errs
}
