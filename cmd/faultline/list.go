package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Name the targets, workloads, checkers, nemeses, partition shapes and fault targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := &listWriter{w: cmd.OutOrStdout(), width: listWidth}
			w.title("TARGETS (--target NAME; override an option with --target-opt k=v)")
			var items []bundle.Info
			for _, c := range targets.Configs() {
				items = append(items, bundle.Info{Name: c.Name, Doc: c.Doc +
					"\noptions: " + opts(c.Opts) + "\nexpected: " + expect(c.Expect)})
			}
			w.items(items)
			w.section("WORKLOADS (--workload)", workloads())
			w.section("CHECKERS (chosen by the workload)", bundle.CheckerDocs)
			w.section("NEMESES (--nemesis kind,kind | all | none)", convert(nemesis.Kinds()))
			w.section("PARTITION SHAPES (drawn from the seed; pick with --nemesis partition:SHAPE, alternatives joined by +)", convert(nemesis.Shapes()))
			w.section("FAULT TARGETS (drawn from the seed; pick with --nemesis kill:TARGET, pause:TARGET or clock:TARGET; roles for kill and pause only)", append(convert(nemesis.Targets()), bundle.RoleDocs...))
			w.section("RUNTIMES (--runtime)", bundle.RuntimeDocs)
			return w.err
		},
	}
}

// listWidth is the terminal width `faultline list` fits.
const listWidth = 80

// listWriter prints titled lists of names and descriptions, each
// description wrapped beside its name to fit the width.
type listWriter struct {
	w     io.Writer
	width int
	err   error
}

func (l *listWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}

func (l *listWriter) title(t string) {
	for _, line := range wrap(t, l.width) {
		l.printf("%s\n", line)
	}
}

func (l *listWriter) section(title string, infos []bundle.Info) {
	l.printf("\n")
	l.title(title)
	l.items(infos)
}

// items prints each name in a column of its own and its description wrapped
// beside it; a name too long for the column puts the description on the
// lines below. A "\n" in a description starts a new line.
func (l *listWriter) items(infos []bundle.Info) {
	col := 0
	for _, i := range infos {
		col = max(col, len(i.Name))
	}
	col = min(col, 20) + 4 // two spaces of indent, two of gap
	for _, i := range infos {
		var lines []string
		for _, para := range strings.Split(i.Doc, "\n") {
			lines = append(lines, wrap(para, l.width-col)...)
		}
		first := 0
		if name := "  " + i.Name; len(name)+2 <= col {
			l.printf("%-*s%s\n", col, name, lines[0])
			first = 1
		} else {
			l.printf("%s\n", name)
		}
		for _, line := range lines[first:] {
			l.printf("%s%s\n", strings.Repeat(" ", col), line)
		}
	}
}

// wrap breaks text into lines of at most width runes, at spaces; a word
// longer than width gets a line of its own.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}

func workloads() []bundle.Info {
	var out []bundle.Info
	for _, wl := range clients.Workloads() {
		out = append(out, bundle.Info{Name: wl.Name, Doc: wl.Doc})
	}
	return out
}

func convert(in []nemesis.Info) []bundle.Info {
	out := make([]bundle.Info, len(in))
	for i, x := range in {
		out[i] = bundle.Info{Name: x.Name, Doc: x.Doc}
	}
	return out
}

func opts(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, " ")
}

// expect says which guarantees a configuration keeps and breaks.
func expect(m map[string]bool) string {
	var kept, broken []string
	for model, held := range m {
		if held {
			kept = append(kept, model)
		} else {
			broken = append(broken, model)
		}
	}
	sort.Strings(kept)
	sort.Strings(broken)
	s := ""
	if len(kept) > 0 {
		s = "keeps " + strings.Join(kept, ", ")
	}
	if len(broken) > 0 {
		if s != "" {
			s += "; "
		}
		s += "breaks " + strings.Join(broken, ", ")
	}
	if s == "" {
		s = "none claimed: state yours in a matrix cell"
	}
	return s
}
