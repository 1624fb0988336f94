package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// A history too long for the memory budget is checked key by key: read
// once to index it by key (results.KeyIndex), then loaded and checked a
// batch of keys at a time by the checkers whose work is per key, and the
// parts' results merged (checkers.MergeParts). Availability is measured
// from what the index kept. Only faultline's own JSON Lines are indexed
// this way; other formats are read whole.

// keyByKeyModels are the models whose checkers work per key.
var keyByKeyModels = map[string]bool{"register": true, "list-append": true}

// bytesPerLine is about what a history costs in memory, once read and
// indexed by the checkers, per byte of its file (measured on histories of
// 1M ops: 3.3 for registers, 2.5 for list-append, with headroom).
const bytesPerLine = 4

// parseBytes reads a size such as 4GiB, 512MiB or 1000000.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size: want a number of bytes, or one with GiB, MiB, GB or MB, such as 4GiB", s)
	}
	return int64(f * float64(mult)), nil
}

// needsKeyByKey reports whether the history at path is too long to check
// whole within budget bytes.
func needsKeyByKey(path string, budget int64) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := f.Read(head)
	if format, err := results.DetectFormat(head[:n]); err != nil || format != results.FormatJSONL {
		return false
	}
	return fi.Size()*bytesPerLine > budget
}

// checkKeyByKey checks the history at histPath a batch of keys at a time.
func (c checkRun) checkKeyByKey(ctx context.Context, dir, histPath string, spec harness.Spec) error {
	began := time.Now()
	fi, err := os.Stat(histPath)
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(c.errs, "the history (%.1f GB) is longer than the memory budget (%.1f GB) allows to check whole: checking it key by key\n",
		float64(fi.Size())/1e9, float64(c.memory)/1e9)
	debug.SetMemoryLimit(c.memory)
	shown := -1
	x, warnings, err := results.IndexJSONL(histPath, func(read, size int64) {
		if pct := int(100 * read / max(size, 1)); pct/10 > shown {
			shown = pct / 10
			fmt.Fprintf(c.errs, "indexing %s: %d%%\n", filepath.Base(histPath), pct)
		}
	})
	if err != nil {
		return usageErr("%v", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(c.errs, "warning:", w)
	}
	model := c.model
	if model == "" {
		model = spec.Workload
	}
	if model == "" {
		model = detectFromIndex(x)
	}
	model = checkers.CanonicalModel(model)
	if !keyByKeyModels[model] {
		return usageErr("a %s history of %.1f GB is too long to check whole within the memory budget, and only register and list-append histories can be checked key by key; raise --memory", model, float64(fi.Size())/1e9)
	}
	spec.Workload = model
	cs, err := bundle.CheckersFor(spec)
	if err != nil {
		return usageErr("%v", err)
	}
	var perKey []checkers.Checker
	for _, ch := range cs {
		if _, ok := ch.(checkers.Availability); !ok {
			perKey = append(perKey, ch)
		}
	}
	if c.initial != "" {
		perKey = checkers.WithInitial(perKey, initialValue(c.initial))
	}
	// Parts of about a quarter of what the budget would hold whole: the
	// index, the collector's headroom and the checkers' own structures
	// share the rest.
	avgLine := max(fi.Size()/int64(max(x.Events, 1)), 1)
	batchEvents := max(int(c.memory/(4*bytesPerLine*avgLine)), 64)
	batches := x.Batches(batchEvents)
	// Each checker has its own time budget, spread over the parts by their
	// share of the ops still to check.
	spent := make([]time.Duration, len(perKey))
	parts := make([][]checkers.Result, len(perKey))
	left := x.Events - len(x.Nemesis)
	for b, keys := range batches {
		h, err := x.Load(keys)
		if err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		events := len(h) - len(x.Nemesis)
		fmt.Fprintf(c.errs, "checking keys: part %d of %d (%d keys, %d ops)\n", b+1, len(batches), len(keys), events)
		for i, ch := range perKey {
			share := time.Duration(float64(c.timeout-spent[i]) * float64(events) / float64(max(left, 1)))
			began := time.Now()
			r := harness.Check(ctx, []checkers.Checker{ch}, h, "", max(share, time.Second))
			spent[i] += time.Since(began)
			parts[i] = append(parts[i], r[0])
		}
		left -= events
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintln(c.errs)
	var rs []checkers.Result
	for i := range perKey {
		rs = append(rs, checkers.MergeParts(parts[i]))
	}
	rs = append(rs, checkers.AvailabilityOf(x.Nemesis, x.First, x.Last, func(fn func(int64, history.Type, int64)) {
		for _, s := range x.Samples {
			fn(s.Invoked, s.Type, s.Latency)
		}
	}))
	sum := harness.Summarize(spec.Name, spec, nil, rs, began, time.Since(began))
	sum.Ops = x.Counts
	sum.Warnings = append(sum.Warnings, warnings...)
	if len(batches) > 1 {
		sum.Warnings = append(sum.Warnings, fmt.Sprintf("checked key by key in %d parts: cycles that span keys of different parts are not searched, so sequential consistency is not claimed", len(batches)))
	}
	printSummary(c.out, dir, sum)
	if dir != "" && c.write {
		if err := results.WriteJSON(filepath.Join(dir, results.SummaryFile), sum); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		fmt.Fprintln(c.out, "note: the report is not rewritten for a history checked key by key")
	}
	return verdictExit(sum.Valid)
}

// detectFromIndex tells the model from the first ops of the history.
func detectFromIndex(x *results.KeyIndex) string {
	for k := range x.Keys {
		h, err := x.Load([]int{k})
		if err != nil {
			return ""
		}
		var client history.History
		for _, op := range h {
			if op.IsClient() {
				client = append(client, op)
			}
		}
		if m, err := checkers.DetectModel(client); err == nil {
			return m
		}
		if k > 10 {
			break
		}
	}
	return ""
}
