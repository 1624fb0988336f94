package checkers

// CycleStep is one edge of a dependency cycle that an anomaly explains, so
// that a report can draw the cycle: the transaction the edge leaves (by the
// history index of its op and the name the explanation gives it), the kind
// of edge to the next step's transaction (the last step's leads back to the
// first), and why that edge holds.
type CycleStep struct {
	Op   int    `json:"op"`
	Name string `json:"name"`          // T1, T2... as in the explanation
	Edge string `json:"edge"`          // ww, wr, rw, process or realtime
	Why  string `json:"why,omitempty"` // one clause: "T2 observed T1's append of 3 to key 5"
}
