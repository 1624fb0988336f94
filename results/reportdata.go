package results

import (
	"bufio"
	"encoding/json"
	"strconv"

	"github.com/faultline/faultline/harness/history"
)

// maxDistinctErrors bounds the error table: errors that embed addresses or
// ids would otherwise make it as long as the history.
const maxDistinctErrors = 1000

// writeReportData writes the history as one JSON object of columns, one
// array per field with an entry per client operation (an invocation and its
// completion), times in microseconds and monotone fields delta-encoded. A
// million-op history then costs about 20 bytes per operation, where one
// JSON object per op would cost 150.
func writeReportData(w *bufio.Writer, h history.History, v *reportView) error {
	pairs := v.pairs
	n := len(pairs)
	cols := struct {
		p, s, d, t, f, k, node, e, i, c []int64
	}{}
	for _, c := range []*[]int64{&cols.p, &cols.s, &cols.d, &cols.t, &cols.f, &cols.k, &cols.node, &cols.e, &cols.i, &cols.c} {
		*c = make([]int64, n)
	}
	fs, keys, nodes, errs := newDictionary(0), newDictionary(0), newDictionary(0), newDictionary(maxDistinctErrors)
	var prevStart, prevIndex int64
	for j, p := range pairs {
		inv, comp := p.Invoke, p.Complete
		start := inv.Time / 1000
		cols.p[j] = int64(inv.Process)
		cols.s[j] = start - prevStart
		prevStart = start
		cols.i[j] = int64(inv.Index) - prevIndex
		prevIndex = int64(inv.Index)
		if comp.Index < 0 {
			cols.d[j], cols.c[j] = -1, -1
		} else {
			cols.d[j] = comp.Time/1000 - start
			cols.c[j] = int64(comp.Index - inv.Index)
		}
		switch comp.Type {
		case history.OK:
			cols.t[j] = 0
		case history.Fail:
			cols.t[j] = 1
		default:
			cols.t[j] = 2
		}
		cols.f[j] = fs.id(inv.F)
		cols.k[j] = keys.id(inv.Key)
		node := comp.Node
		if node == "" {
			node = inv.Node
		}
		cols.node[j] = nodes.id(node)
		cols.e[j] = errs.id(comp.Error)
	}

	jw := &jsonWriter{w: w}
	jw.raw(`{"ops":`)
	jw.int(int64(n))
	jw.raw(`,"end":`)
	jw.int(v.endTime / 1000)
	jw.raw(`,"final":`)
	if v.final >= 0 {
		jw.int(v.final / 1000)
	} else {
		jw.raw("-1")
	}
	jw.raw(`,"maxIndex":`)
	jw.int(int64(v.maxIndex))
	jw.raw(`,"concurrency":`)
	jw.int(int64(v.concurrency()))
	for _, t := range []struct {
		name string
		in   *dictionary
	}{{"fs", fs}, {"keys", keys}, {"nodes", nodes}, {"errs", errs}} {
		jw.raw(`,"` + t.name + `":`)
		jw.json(t.in.list)
	}
	for _, c := range []struct {
		name string
		col  []int64
	}{{"p", cols.p}, {"s", cols.s}, {"d", cols.d}, {"t", cols.t}, {"f", cols.f}, {"k", cols.k},
		{"n", cols.node}, {"e", cols.e}, {"i", cols.i}, {"c", cols.c}} {
		jw.raw(`,"` + c.name + `":[`)
		for j, x := range c.col {
			if j > 0 {
				jw.raw(",")
			}
			jw.int(x)
		}
		jw.raw("]")
	}
	jw.raw(`,"v":[`)
	for j, p := range pairs {
		if j > 0 {
			jw.raw(",")
		}
		val := p.Complete.Value
		if val == nil {
			val = p.Invoke.Value
		}
		switch x := val.(type) {
		case nil:
			jw.raw("null")
		case int64:
			jw.int(x)
		default:
			jw.json(describeValue(x, maxValueChars))
		}
	}
	jw.raw(`],"bands":`)
	if v.Bands == nil {
		jw.raw("[]")
	} else {
		jw.json(v.Bands)
	}
	for _, part := range []struct {
		name string
		v    any
	}{{"nodeStates", v.nodeStates}, {"markerGroups", v.markerGroups}, {"markers", v.markers}} {
		jw.raw(`,"` + part.name + `":`)
		if part.v == nil {
			jw.raw("[]")
		} else {
			jw.json(part.v)
		}
	}
	jw.raw(`,"nem":[`)
	first := true
	for _, op := range h {
		if op.IsClient() {
			continue
		}
		if !first {
			jw.raw(",")
		}
		first = false
		jw.json(nemesisOp{op.Index, op.Time / 1000, string(op.Type), op.F, describeValue(op.Value, 400)})
	}
	jw.raw("]}")
	return jw.err
}

type nemesisOp struct {
	Index int    `json:"i"`
	Time  int64  `json:"t"`
	Type  string `json:"type"`
	F     string `json:"f"`
	Value string `json:"v,omitempty"`
}

// concurrency is the spec's client count, which the timeline uses to fold
// the processes that replace crashed ones back onto their worker's row.
func (v *reportView) concurrency() int {
	for _, f := range v.Spec {
		if f.Key == "concurrency" {
			n, _ := strconv.Atoi(f.Value)
			return n
		}
	}
	return 0
}

// dictionary maps strings to dense ids; "" is -1.
type dictionary struct {
	ids  map[string]int64
	list []string
	max  int
}

func newDictionary(max int) *dictionary {
	return &dictionary{ids: map[string]int64{}, list: []string{}, max: max}
}

func (in *dictionary) id(s string) int64 {
	if s == "" {
		return -1
	}
	if id, ok := in.ids[s]; ok {
		return id
	}
	if in.max > 0 && len(in.list) >= in.max {
		s = "(more distinct values than the report keeps)"
		if id, ok := in.ids[s]; ok {
			return id
		}
	}
	id := int64(len(in.list))
	in.ids[s] = id
	in.list = append(in.list, s)
	return id
}

// jsonWriter keeps the first error, so the long write loops stay readable.
type jsonWriter struct {
	w       *bufio.Writer
	scratch []byte
	err     error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) int(x int64) {
	if j.err == nil {
		j.scratch = strconv.AppendInt(j.scratch[:0], x, 10)
		_, j.err = j.w.Write(j.scratch)
	}
}

// json writes v with encoding/json, whose escaping of <, > and & keeps a
// "</script>" inside a value from ending the data block.
func (j *jsonWriter) json(v any) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}
