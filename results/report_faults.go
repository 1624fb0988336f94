package results

import (
	"maps"
	"slices"

	"github.com/faultline/faultline/harness/history"
)

// faultBand is one fault window on the timeline: from the start's
// invocation, because the fault may bite before the nemesis hears back,
// to the stop's completion or the heal that ended it. A failed fault is
// drawn apart, so it is never mistaken for one that happened.
type faultBand struct {
	Kind   string `json:"kind"`
	Start  int64  `json:"start"` // µs
	End    int64  `json:"end"`   // µs
	Label  string `json:"label"` // what was done, readably
	Op     int    `json:"op"`    // index of the start op's completion
	Failed bool   `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
}

// nodeState is one node's state during a fault, for the timeline's lanes
// per node: killed, paused, cut off from some nodes, clock offset, slow
// links.
type nodeState struct {
	Node   string `json:"n"`
	Kind   string `json:"k"`
	Label  string `json:"l"`
	Start  int64  `json:"s"` // µs
	End    int64  `json:"e"` // µs
	Failed bool   `json:"f,omitempty"`
}

func faultBands(faults []Fault) []faultBand {
	out := make([]faultBand, 0, len(faults))
	for _, f := range faults {
		b := faultBand{Kind: f.Kind, Start: f.StartNS / 1000, End: f.EndNS / 1000, Label: f.Label, Op: f.StartOp, Failed: f.Failed, Error: f.Error}
		switch f.EndedBy {
		case "heal":
			b.Label += " (ended by the final heal)"
		case "end":
			b.Label += " (never stopped)"
		}
		if f.StopError != "" {
			b.Label += " (undoing it failed: " + f.StopError + ")"
		}
		out = append(out, b)
	}
	return out
}

func nodeStates(faults []Fault) []nodeState {
	var out []nodeState
	for _, f := range faults {
		for _, n := range slices.Sorted(maps.Keys(f.Nodes)) {
			out = append(out, nodeState{Node: n, Kind: f.Kind, Label: f.Nodes[n], Start: f.StartNS / 1000, End: f.EndNS / 1000, Failed: f.Failed})
		}
	}
	return out
}

// finalTime is the time of the final marker's invocation, -1 if none.
func finalTime(h history.History) int64 {
	for _, op := range h {
		if op.F == "final" && !op.IsClient() && op.Type == history.Invoke {
			return op.Time
		}
	}
	return -1
}

// anomalyMarker places one listed anomaly on the timeline: at the time its
// last op completed, when the anomaly was proven.
type anomalyMarker struct {
	T     int64  `json:"t"` // µs
	Group int    `json:"g"` // index into the report data's anomaly groups
	Ops   []int  `json:"o"`
	Key   string `json:"k,omitempty"`
}

type markerGroup struct {
	ID      string `json:"id"`
	Checker string `json:"checker"`
	Type    string `json:"type"`
}

// maxMarkerOps bounds the ops a marker highlights when clicked.
const maxMarkerOps = 24

func anomalyMarkers(groups []checkerAnomalies, op func(int) (history.Op, bool)) ([]markerGroup, []anomalyMarker) {
	var gs []markerGroup
	var ms []anomalyMarker
	for _, ca := range groups {
		for _, g := range ca.Groups {
			gi := len(gs)
			gs = append(gs, markerGroup{ID: g.ID, Checker: ca.Checker, Type: g.Type})
			for _, a := range g.Anomalies {
				t := int64(-1)
				for _, i := range a.Ops {
					if o, ok := op(i); ok {
						t = max(t, o.Time)
					}
				}
				if t < 0 {
					continue
				}
				ops := a.Ops
				if len(ops) > maxMarkerOps {
					ops = ops[:maxMarkerOps]
				}
				ms = append(ms, anomalyMarker{T: t / 1000, Group: gi, Ops: ops, Key: a.Key})
			}
		}
	}
	return gs, ms
}
