package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/faultline/faultline/harness"
)

// minClockOffset is the smallest offset drawn: below it, a clock fault is
// lost in the noise of timeouts.
const minClockOffset = 100 * time.Millisecond

// clock shifts the clocks of some nodes by random offsets, forward or
// back, and optionally makes them drift; its stop resets them. It is a
// process-level clock: each reference node reads its own offset clock for
// every time-based decision, as Jepsen's clock faults do inside
// containers, which cannot change the host's clock.
type clock struct {
	targets   []string
	maxOffset time.Duration
	maxDrift  float64
}

func (k *clock) plan(r *rand.Rand, nodes []string) map[string]any {
	t := k.targets[r.IntN(len(k.targets))]
	offsets, drifts := map[string]any{}, map[string]any{}
	for _, n := range pick(r, t, nodes) {
		span := max(k.maxOffset-minClockOffset, 0)
		off := minClockOffset + time.Duration(r.Int64N(int64(span)+1))
		off = off.Round(time.Millisecond)
		if r.IntN(2) == 0 {
			off = -off
		}
		offsets[n] = off.String()
		if k.maxDrift > 0 {
			drifts[n] = fraction((2*r.Float64() - 1) * k.maxDrift)
		}
	}
	v := map[string]any{"target": t, "offsets": offsets}
	if len(drifts) > 0 {
		v["drifts"] = drifts
	}
	return v
}

func (k *clock) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	offsets, err := asMap(v["offsets"])
	if err != nil {
		return nil, nil, fmt.Errorf("clock: offsets: %w", err)
	}
	drifts, err := asMap(v["drifts"])
	if err != nil {
		return nil, nil, fmt.Errorf("clock: drifts: %w", err)
	}
	faults := map[string]harness.ClockFault{}
	for n, o := range offsets {
		off, err := asDuration(o)
		if err != nil {
			return nil, nil, fmt.Errorf("clock: offset of %s: %w", n, err)
		}
		faults[n] = harness.ClockFault{Offset: off}
	}
	for n, d := range drifts {
		drift, err := asFraction(d)
		if err != nil {
			return nil, nil, fmt.Errorf("clock: drift of %s: %w", n, err)
		}
		f := faults[n]
		f.Drift = drift
		faults[n] = f
	}
	nodes := sortedKeys(faults)
	undo := map[string]any{"nodes": strList(nodes)}
	ok, failed, err := eachNode(ctx, nodes, func(ctx context.Context, n string) error {
		return c.SetClock(ctx, n, faults[n])
	})
	doneOffsets, doneDrifts := map[string]any{}, map[string]any{}
	for _, n := range ok {
		doneOffsets[n] = offsets[n]
		if d, ok := drifts[n]; ok {
			doneDrifts[n] = d
		}
	}
	done := map[string]any{"offsets": doneOffsets}
	if len(doneDrifts) > 0 {
		done["drifts"] = doneDrifts
	}
	withFailed(done, failed)
	if err != nil {
		return done, undo, fmt.Errorf("set clock: %w", err)
	}
	return done, undo, nil
}

func (k *clock) stop(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, error) {
	nodes, err := asStrings(v["nodes"])
	if err != nil {
		return nil, fmt.Errorf("reset clock: nodes: %w", err)
	}
	ok, failed, err := eachNode(ctx, nodes, func(ctx context.Context, n string) error {
		return c.SetClock(ctx, n, harness.ClockFault{})
	})
	done := withFailed(map[string]any{"nodes": strList(ok)}, failed)
	if err != nil {
		return done, fmt.Errorf("reset clock: %w", err)
	}
	return done, nil
}
