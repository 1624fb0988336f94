package nemesis

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// drawn runs a nemesis and returns what each kind's starts drew: the
// shape of partitions, the target of node faults.
func drawn(t *testing.T, nem harness.Nemesis, steps int) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	run(t, nem, newFake(5), 3, steps, func(inv, _ history.Op) {
		kind, ok := strings.CutPrefix(inv.F, "start-")
		if !ok {
			return
		}
		v, _ := inv.Value.(map[string]any)
		what, _ := v["shape"].(string)
		if what == "" {
			what, _ = v["target"].(string)
		}
		if out[kind] == nil {
			out[kind] = map[string]bool{}
		}
		out[kind][what] = true
	})
	return out
}

func TestQualifiedKindsDrawOnlyWhatTheyName(t *testing.T) {
	primaries := func(context.Context, harness.Cluster) []string { return []string{"n1"} }
	nem := mustNew(t, []string{"partition:majorities-ring,kill:primaries", "pause:one+majority,clock"}, Options{Roles: []Role{{Name: TargetPrimaries, Nodes: primaries}}})
	d := drawn(t, nem, 400)
	want := map[string]string{"partition": "majorities-ring", "kill": "primaries", "pause": "majority one"}
	for kind, w := range want {
		var got []string
		for k := range d[kind] {
			got = append(got, k)
		}
		if strings.Join(slices.Sorted(slices.Values(got)), " ") != w {
			t.Errorf("%s drew %v, want only %s", kind, got, w)
		}
	}
	// The bare kind draws from every target clocks allow.
	if len(d["clock"]) < 3 {
		t.Errorf("bare clock drew only %v", d["clock"])
	}
}

func TestAQualifierNamedTwiceAddsToTheList(t *testing.T) {
	d := drawn(t, mustNew(t, []string{"partition:halves,partition:bridge"}, Options{}), 200)
	if len(d["partition"]) != 2 || !d["partition"]["halves"] || !d["partition"]["bridge"] {
		t.Fatalf("drew %v, want halves and bridge", d["partition"])
	}
}

func TestBadQualifiersAreRefusedWithTheValidNames(t *testing.T) {
	cases := []struct {
		kinds []string
		opts  Options
		want  string
	}{
		{[]string{"partition:triangle"}, Options{}, "majorities-ring"},
		{[]string{"kill:leader"}, Options{}, "minority"},
		{[]string{"kill:primaries"}, Options{}, "primaries"},
		{[]string{"clock:primaries"}, Options{}, "not at roles"},
		{[]string{"clock:half"}, Options{}, "one, minority, majority, all"},
		{[]string{"latency:n1"}, Options{}, "no qualifier"},
		{[]string{"all:halves"}, Options{}, "only a fault kind"},
		{[]string{"partition:"}, Options{}, "empty qualifier"},
		{[]string{"flood:halves"}, Options{}, "flood"},
	}
	for _, c := range cases {
		_, err := New(c.kinds, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q): %v; want an error mentioning %q", c.kinds, err, c.want)
		}
	}
}

func TestRoundsStartEveryKindBeforeAnyTwice(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		nem := mustNew(t, []string{"all"}, Options{})
		var starts []string
		c := newFake(5)
		run(t, nem, c, seed, 20, func(inv, _ history.Op) {
			if k, ok := strings.CutPrefix(inv.F, "start-"); ok {
				starts = append(starts, k)
			}
		})
		for round := 0; round+5 <= len(starts); round += 5 {
			seen := map[string]bool{}
			for _, k := range starts[round : round+5] {
				seen[k] = true
			}
			if len(seen) != 5 {
				t.Fatalf("seed %d: round %d started %v; want each of the 5 kinds once", seed, round/5, starts[round:round+5])
			}
		}
	}
	if got := mustNew(t, []string{"clock,partition"}, Options{}).(interface{ Kinds() []string }).Kinds(); strings.Join(got, ",") != "partition,clock" {
		t.Fatalf("Kinds() = %v", got)
	}
}

func TestFitShortensTheIntervalSoEveryKindStarts(t *testing.T) {
	cases := []struct {
		kinds            []string
		interval, limit  time.Duration
		want             time.Duration
		wantErrSubstring string
	}{
		{[]string{"partition"}, 2 * time.Second, 8 * time.Second, 2 * time.Second, ""}, // already fits
		{nil, 10 * time.Second, time.Second, 10 * time.Second, ""},                     // no faults
		{[]string{"partition,kill"}, 10 * time.Second, 20 * time.Second, 4266 * time.Millisecond, ""},
		{[]string{"all"}, 10 * time.Second, 15 * time.Second, 1066 * time.Millisecond, ""},
		{[]string{"all"}, 0, 15 * time.Second, 1066 * time.Millisecond, ""},
		{[]string{"all"}, time.Second, 2 * time.Second, 0, "--time-limit 4s"},
	}
	for _, c := range cases {
		got, err := Fit(c.kinds, c.interval, c.limit)
		if c.wantErrSubstring != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrSubstring) {
				t.Errorf("Fit(%v, %v, %v) = %v, %v; want an error saying %q", c.kinds, c.interval, c.limit, got, err, c.wantErrSubstring)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Fit(%v, %v, %v) = %v, %v; want %v", c.kinds, c.interval, c.limit, got, err, c.want)
		}
		// The promise itself: with every op as late as the jitter allows,
		// the last kind's start still falls inside the share of the limit.
		if n := len(mustKinds(t, c.kinds)); n > 0 {
			last := time.Duration(float64(got) * 1.25 * float64(2*n-1))
			if last > c.limit {
				t.Errorf("Fit(%v, %v) = %v: the last kind may start at %v, after the limit", c.kinds, c.limit, got, last)
			}
		}
	}
}

func mustKinds(t *testing.T, kinds []string) []string {
	t.Helper()
	k, _, err := splitKinds(kinds)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzNemesisSpec feeds --nemesis values to New and Fit: either an error,
// or a schedule that draws only kinds it was asked for.
func FuzzNemesisSpec(f *testing.F) {
	for _, s := range []string{"all", "partition:majorities-ring,kill:primaries", "pause:one+minority", "partition:halves,partition:bridge", "clock:", "latency:x", ":", "none,kill", "kill::one", "partition:+"} {
		f.Add(s)
	}
	primaries := func(context.Context, harness.Cluster) []string { return []string{"n1"} }
	f.Fuzz(func(t *testing.T, spec string) {
		nem, err := New([]string{spec}, Options{Roles: []Role{{Name: TargetPrimaries, Nodes: primaries}}})
		// Fit reads the kinds as New does (it cannot check a target's roles,
		// so it may accept more); 10 s fit every kind at 1 s or less.
		if _, ferr := Fit([]string{spec}, time.Second, 10*time.Second); err == nil && ferr != nil {
			t.Fatalf("New accepted %q but Fit refused it: %v", spec, ferr)
		}
		if err != nil || nem == nil {
			return
		}
		asked := map[string]bool{}
		kinds, _, _ := splitKinds([]string{spec})
		for _, k := range kinds {
			asked[k] = true
		}
		run(t, nem, newFake(4), 1, 12, func(inv, _ history.Op) {
			_, k, _ := strings.Cut(inv.F, "-")
			if !asked[k] {
				t.Fatalf("%q drew a %s fault", spec, k)
			}
		})
	})
}
