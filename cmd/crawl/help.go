package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagGroup is a titled group of flags in a command's help.
type flagGroup struct {
	title string
	flags []string
}

// runFlagGroups orders the many flags of crawl run by what they are for.
var runFlagGroups = []flagGroup{
	{"Output", []string{"output", "overwrite-output", "format", "stats"}},
	{"Politeness", []string{"obey-robots", "rate", "delay", "per-host", "autothrottle", "max-delay", "user-agent"}},
	{"Limit", []string{"max-pages", "max-items", "max-time", "max-errors", "depth", "strict", "grace"}},
	{"Requests", []string{"timeout", "retries", "max-retry-wait", "max-body", "cookies", "proxy", "deny-private", "cache", "cache-ttl", "cache-refresh"}},
	{"Rendering", []string{"render-workers", "browser", "browser-url"}},
	{"State and scale", []string{"state", "workers", "order", "queue-memory", "spill-dir", "frontier", "lease"}},
	{"Logging", []string{"log-level", "log-format", "verbose", "quiet", "progress-interval"}},
}

// groupAnnotation is the flag annotation naming a flag's group in help.
const groupAnnotation = "crawl_help_group"

// groupFlags marks each flag of f named in groups with its group, for the
// help's usage template; flags left out are listed under "Other flags".
func groupFlags(f *pflag.FlagSet, groups []flagGroup) {
	for _, g := range groups {
		for _, name := range g.flags {
			if f.Lookup(name) != nil {
				f.SetAnnotation(name, groupAnnotation, []string{g.title})
			}
		}
	}
}

// flagUsages renders the local flags of cmd for its help: in the groups
// groupFlags gave them, in the order of first appearance, or as one list
// titled "Flags" when they have none.
func flagUsages(cmd *cobra.Command) string {
	local := cmd.LocalFlags()
	var titles []string
	sets := map[string]*pflag.FlagSet{}
	local.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		title := "Other"
		if g := f.Annotations[groupAnnotation]; len(g) > 0 {
			title = g[0]
		}
		if sets[title] == nil {
			sets[title] = pflag.NewFlagSet(title, pflag.ContinueOnError)
			titles = append(titles, title)
		}
		sets[title].AddFlag(f)
	})
	if len(titles) == 1 && titles[0] == "Other" {
		return "\n\nFlags:\n" + strings.TrimRight(local.FlagUsages(), " \n")
	}
	order := map[string]int{"Other": len(runFlagGroups) + 1}
	for i, g := range runFlagGroups {
		order[g.title] = i + 1
	}
	var b strings.Builder
	for _, title := range sortedBy(titles, order) {
		b.WriteString("\n\n" + title + " flags:\n")
		b.WriteString(strings.TrimRight(sets[title].FlagUsages(), " \n"))
	}
	return b.String()
}

// sortedBy returns titles in the order rank gives, unranked ones last in
// the order they came.
func sortedBy(titles []string, rank map[string]int) []string {
	out := append([]string(nil), titles...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && rank[out[j]] < rank[out[j-1]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// useGroupedHelp makes root and its subcommands list their flags with
// flagUsages.
func useGroupedHelp(root *cobra.Command) {
	cobra.AddTemplateFunc("flagUsages", flagUsages)
	const flags = `{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}`
	tmpl := root.UsageTemplate()
	if strings.Contains(tmpl, flags) {
		root.SetUsageTemplate(strings.Replace(tmpl, flags, `{{if .HasAvailableLocalFlags}}{{flagUsages .}}{{end}}`, 1))
	}
}
