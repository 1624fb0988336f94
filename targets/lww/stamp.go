package lww

import (
	"bytes"
	"cmp"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Stamp orders writes in order=clock and order=hlc: the highest stamp is
// the last write. Wall is nanoseconds of the stamping node's own clock;
// Logical breaks ties in a hybrid logical clock; Node breaks the rest.
type Stamp struct {
	Wall    int64  `json:"w"`
	Logical uint32 `json:"l,omitempty"`
	Node    string `json:"n"`
}

// Compare orders stamps: -1, 0 or +1.
func (s Stamp) Compare(o Stamp) int {
	if c := cmp.Compare(s.Wall, o.Wall); c != 0 {
		return c
	}
	if c := cmp.Compare(s.Logical, o.Logical); c != 0 {
		return c
	}
	return cmp.Compare(s.Node, o.Node)
}

// String renders a stamp for logs and answers.
func (s Stamp) String() string {
	return fmt.Sprintf("%s+%d@%s", time.Unix(0, s.Wall).UTC().Format("15:04:05.000000"), s.Logical, s.Node)
}

// hlcNext is the hybrid logical clock's next stamp after last, on a node
// whose own clock reads now (Kulkarni et al., 2014): physical time when it
// has moved past every stamp seen, otherwise the last wall time with the
// logical counter one higher. Either way it exceeds last.
func hlcNext(last Stamp, now time.Time, node string) Stamp {
	if pt := now.UnixNano(); pt > last.Wall {
		return Stamp{Wall: pt, Node: node}
	}
	return Stamp{Wall: last.Wall, Logical: last.Logical + 1, Node: node}
}

// VV is a version vector: per origin node, the highest sequence number
// covered. Sessions carry one as their token in session=causal.
type VV map[string]uint64

// Covers reports whether v includes every entry o names.
func (v VV) Covers(o VV) bool {
	for n, s := range o {
		if v[n] < s {
			return false
		}
	}
	return true
}

// Merge raises v to include o.
func (v VV) Merge(o VV) {
	for n, s := range o {
		v[n] = max(v[n], s)
	}
}

// Clone copies v; nil stays nil.
func (v VV) Clone() VV {
	if v == nil {
		return nil
	}
	out := make(VV, len(v))
	for n, s := range v {
		out[n] = s
	}
	return out
}

// sortedIDs returns the keys of a version vector in order, for logs.
func sortedIDs(v VV) []string {
	ids := make([]string, 0, len(v))
	for id := range v {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// String renders a version vector compactly: n1:3,n2:5.
func (v VV) String() string {
	var b bytes.Buffer
	for i, id := range sortedIDs(v) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id + ":" + strconv.FormatUint(v[id], 10))
	}
	return b.String()
}
