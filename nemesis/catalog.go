package nemesis

import "strings"

// Info names one entry of the catalogue `faultline list` prints.
type Info struct {
	Name string `json:"name"`
	Doc  string `json:"doc"` // one line
}

// The fault kinds, as named by --nemesis.
const (
	KindPartition = "partition"
	KindKill      = "kill"
	KindPause     = "pause"
	KindClock     = "clock"
	KindLatency   = "latency"
)

var kindDocs = []Info{
	{KindPartition, "cut the network into a grudge of one of the partition shapes, then heal it (clients too with --partition-clients)"},
	{KindKill, "SIGKILL a target's nodes, then restart them on their own data"},
	{KindPause, "SIGSTOP a target's nodes, then SIGCONT them"},
	{KindClock, "offset (and optionally drift) the process-level clocks of a target's nodes, then reset them"},
	{KindLatency, "add latency, jitter and loss (as retransmission stalls) to random links, then clear them (clients beside a node too with --partition-clients)"},
}

// Kinds lists the fault kinds, in the order the schedule knows them.
func Kinds() []Info { return append([]Info(nil), kindDocs...) }

// Shapes lists the partition shapes.
func Shapes() []Info { return shapeInfos() }

// Targets lists the targets of kill, pause and clock faults.
func Targets() []Info { return append([]Info(nil), targetDocs...) }

func shapeInfos() []Info {
	out := make([]Info, len(shapes))
	for i, s := range shapes {
		out[i] = s.Info
	}
	return out
}

func names(infos []Info) string {
	s := make([]string, len(infos))
	for i, in := range infos {
		s[i] = in.Name
	}
	return strings.Join(s, ", ")
}
