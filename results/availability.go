package results

import (
	"encoding/json"
	"math"
)

// availabilityChecker is the name of the checker whose statistics the
// summary, the report and the matrix read.
const availabilityChecker = "availability"

// AvailWindow is one period of a run as the availability checker measured
// it: healthy, a fault, or the final phase. It is read from the checker's
// statistics by their JSON names, so that it reads results.json written by
// any version that kept those names.
type AvailWindow struct {
	Kind       string  `json:"kind"` // "healthy", a fault kind, or "final"
	StartMS    float64 `json:"start_ms"`
	EndMS      float64 `json:"end_ms"`
	DurationMS float64 `json:"duration_ms"` // by kind: the windows' total
	Windows    int     `json:"windows"`     // by kind: how many windows
	What       string  `json:"what"`
	Ops        int     `json:"ops"`
	OK         float64 `json:"ok"`   // shares of Ops
	Fail       float64 `json:"fail"` // ...
	Info       float64 `json:"info"` // ...
	P50MS      float64 `json:"p50_ms"`
	P90MS      float64 `json:"p90_ms"`
	P99MS      float64 `json:"p99_ms"`
	MaxMS      float64 `json:"max_ms"`
	Throughput float64 `json:"throughput"` // ok ops per second
}

// Duration is the window's length in ms (a by-kind row's total).
func (w AvailWindow) Duration() float64 {
	if w.DurationMS > 0 {
		return w.DurationMS
	}
	return w.EndMS - w.StartMS
}

// IsFault reports whether the window is a fault's.
func (w AvailWindow) IsFault() bool { return w.Kind != "healthy" && w.Kind != "final" && w.Kind != "" }

// Availability returns the availability checker's windows, in time order,
// and its rows by kind (healthy first), from a summary; ok is false when
// the run has no such result.
func Availability(sum Summary) (windows, byKind []AvailWindow, ok bool) {
	for _, r := range sum.Results {
		if r.Checker != availabilityChecker || r.Stats == nil {
			continue
		}
		ok = decodeStat(r.Stats["windows"], &windows) == nil
		ok = decodeStat(r.Stats["by_kind"], &byKind) == nil && ok
		return windows, byKind, ok
	}
	return nil, nil, false
}

// decodeStat reads a statistic, whether it is still the checker's Go value
// or was read back from results.json.
func decodeStat(v any, dst any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// Cost is what a run's configuration cost its clients while faults were in
// force: the matrix sets it beside each configuration's guarantees.
type Cost struct {
	// Faulted says the shares and latencies are of ops invoked during
	// faults; without faults they are of the whole run.
	Faulted bool    `json:"faulted"`
	Ops     int     `json:"ops"`
	OK      float64 `json:"ok"`   // share of Ops that completed ok
	Fail    float64 `json:"fail"` // ... fail
	Info    float64 `json:"info"` // ... info (or never completed)
	// P50MS and P99MS are the highest among the fault kinds (or the
	// healthy time's, without faults): an upper bound for the faulted
	// time as a whole, since quantiles of parts do not combine.
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	// Throughput is ok ops per second over the main phase, healthy and
	// faulted time together.
	Throughput float64 `json:"throughput"`
}

// CostOf reads a run's cost from its availability statistics; nil when
// the run has none.
func CostOf(sum Summary) *Cost {
	_, kinds, ok := Availability(sum)
	if !ok || len(kinds) == 0 {
		return nil
	}
	c := &Cost{}
	var okOps, failOps, infoOps, mainOK, mainMS float64
	for _, k := range kinds {
		if k.Kind == "final" {
			continue
		}
		mainOK += k.Throughput * k.Duration() / 1000
		mainMS += k.Duration()
		if !k.IsFault() {
			continue
		}
		c.Faulted = true
		c.Ops += k.Ops
		okOps += k.OK * float64(k.Ops)
		failOps += k.Fail * float64(k.Ops)
		infoOps += k.Info * float64(k.Ops)
		c.P50MS, c.P99MS = math.Max(c.P50MS, k.P50MS), math.Max(c.P99MS, k.P99MS)
	}
	if !c.Faulted {
		for _, k := range kinds {
			if k.Kind == "healthy" {
				c.Ops = k.Ops
				okOps, failOps, infoOps = k.OK*float64(k.Ops), k.Fail*float64(k.Ops), k.Info*float64(k.Ops)
				c.P50MS, c.P99MS = k.P50MS, k.P99MS
			}
		}
	}
	if c.Ops > 0 {
		n := float64(c.Ops)
		c.OK, c.Fail, c.Info = okOps/n, failOps/n, infoOps/n
	}
	if mainMS > 0 {
		c.Throughput = mainOK / (mainMS / 1000)
	}
	return c
}
