package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"crawl/spider"
)

// explainFlagError rewrites the flag parser's errors for people: a value
// of the wrong kind says what the flag wants, without strconv's words, and
// an unknown flag suggests the flag that was probably meant.
func explainFlagError(cmd *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	var unknown *pflag.NotExistError
	switch {
	case errors.As(err, &bad):
		f := bad.GetFlag()
		return fmt.Errorf("--%s: invalid value %q: %s", f.Name, bad.GetValue(), wantValue(f, bad.Unwrap()))
	case errors.As(err, &unknown) && unknown.GetSpecifiedName() != "":
		name := unknown.GetSpecifiedName()
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if hint := spider.Suggest(name, names); hint != "" {
			return fmt.Errorf("unknown flag: --%s (did you mean --%s?)", name, hint)
		}
		return fmt.Errorf("unknown flag: --%s (see '%s --help')", name, cmd.CommandPath())
	}
	return err
}

// wantValue says what a flag wants, for a value it refused with err. The
// flags of crawl's own types say it in err; the standard ones quote
// strconv or time, which is replaced by the kind of value wanted.
func wantValue(f *pflag.Flag, err error) string {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if !strings.Contains(msg, "strconv.") && !strings.HasPrefix(msg, "time: ") && msg != "" {
		return msg
	}
	switch f.Value.Type() {
	case "int", "int64", "int32", "uint", "uint64":
		return "want a whole number"
	case "float64", "float32":
		return "want a number, such as 2 or 0.5"
	case "duration":
		return "want a duration, such as 500ms, 30s, 2m or 1h30m"
	case "bool":
		return "want true or false"
	}
	return "want a " + f.Value.Type()
}
