package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
)

func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Name the targets, workloads, checkers, nemeses and partition shapes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "TARGETS (--target; override options with --target-opt k=v)")
			for _, c := range targets.Configs() {
				fmt.Fprintf(w, "  %s\t%s\n", c.Name, c.Doc)
				fmt.Fprintf(w, "  \t  options: %s; expected: %s\n", opts(c.Opts), expect(c.Expect))
			}
			section(w, "WORKLOADS (--workload)", workloads())
			section(w, "CHECKERS (chosen by workload)", bundle.CheckerDocs)
			section(w, "NEMESES (--nemesis kind,kind | all | none)", convert(nemesis.Kinds()))
			section(w, "PARTITION SHAPES (drawn from the seed)", convert(nemesis.Shapes()))
			section(w, "FAULT TARGETS (kill, pause, clock; roles kill and pause only)", append(convert(nemesis.Targets()), bundle.RoleDocs...))
			section(w, "RUNTIMES (--runtime)", bundle.RuntimeDocs)
			return w.Flush()
		},
	}
}

func section(w io.Writer, title string, infos []bundle.Info) {
	fmt.Fprintf(w, "\n%s\n", title)
	for _, i := range infos {
		fmt.Fprintf(w, "  %s\t%s\n", i.Name, i.Doc)
	}
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
