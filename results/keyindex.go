package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/faultline/faultline/harness/history"
)

// KeyIndex is a faultline history (JSON Lines) too long to hold in memory,
// read once and indexed by key: where each key's ops are in the file, the
// nemesis ops, and what the availability checker measures. Load then reads
// the ops of a few keys at a time, so that checkers whose work is per key
// (linearizability is local, the session guarantees and convergence are
// checked per key) can check the whole history in pieces.
type KeyIndex struct {
	path    string
	Keys    []string        // in order of first appearance
	offsets [][]int64       // per key: where its ops' lines start, in file order
	Nemesis history.History // every nemesis op, with its index
	Events  int             // ops in the history
	Counts  Counts          // the tally a loaded history gives
	First   int64           // time of the first op
	Last    int64           // time of the last op
	Samples []AvailabilitySample
}

// AvailabilitySample is one client op as the availability checker sees it.
type AvailabilitySample struct {
	Invoked int64
	Latency int64 // ns; -1 when the op has none (it did not complete, or ended in info)
	Type    history.Type
}

// IndexJSONL reads the history at path once, checking its structure as it
// goes (history.Validator), and indexes it by key. progress, when set, is
// called now and then with the bytes read and the file's size.
func IndexJSONL(path string, progress func(read, size int64)) (*KeyIndex, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading history: %w", err)
	}
	x := &KeyIndex{path: path}
	keyIDs := map[string]int{}
	open := map[history.Process]int64{} // process -> invocation time
	var v history.Validator
	var warnings []string
	in := interner{}
	br := bufio.NewReaderSize(f, 1<<20)
	var offset int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line (a big nemesis value): gather the rest.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return nil, nil, fmt.Errorf("%s: reading line %d: %w", path, n, err)
		}
		at := offset
		offset += int64(len(line))
		if progress != nil && n%(1<<18) == 0 {
			progress(offset, fi.Size())
		}
		if len(bytes.TrimSpace(line)) > 0 {
			op, perr := parseLine(line, in)
			if perr != nil {
				if err == io.EOF && errors.Is(perr, errTruncated) {
					warnings = append(warnings, fmt.Sprintf("line %d is truncated (the run was probably killed); checking the %d complete lines before it", n, n-1))
					break
				}
				return nil, nil, fmt.Errorf("%s: history line %d: %w", path, n, perr)
			}
			if verr := v.Add(&op); verr != nil {
				return nil, nil, fmt.Errorf("%s: the history is not well formed: %w; %s", path, verr, validationFix(verr))
			}
			x.add(op, at, keyIDs, open)
		}
		if err == io.EOF {
			break
		}
	}
	for _, t := range open {
		x.Samples = append(x.Samples, AvailabilitySample{Invoked: t, Latency: -1, Type: history.Info})
	}
	if progress != nil {
		progress(fi.Size(), fi.Size())
	}
	return x, warnings, nil
}

// parseLine parses one line of a faultline history.
func parseLine(line []byte, in interner) (history.Op, error) {
	op, ok := parseJSONLFast(line, in)
	if ok {
		return op, nil
	}
	op, err := parseJSONLLine(line)
	if err == nil && op.Index == noIndex {
		err = errors.New(`missing "index" (a history checked key by key must be faultline's own, numbered)`)
	}
	if err == nil && op.F == history.TxnF {
		err = txnValue(&op)
	}
	return op, err
}

func (x *KeyIndex) add(op history.Op, at int64, keyIDs map[string]int, open map[history.Process]int64) {
	if x.Events == 0 {
		x.First = op.Time
	}
	x.Events++
	x.Last = op.Time
	x.Counts.Add(op)
	if !op.IsClient() {
		x.Nemesis = append(x.Nemesis, op)
		return
	}
	id, ok := keyIDs[op.Key]
	if !ok {
		id = len(x.Keys)
		keyIDs[op.Key] = id
		x.Keys = append(x.Keys, op.Key)
		x.offsets = append(x.offsets, nil)
	}
	x.offsets[id] = append(x.offsets[id], at)
	if op.Type == history.Invoke {
		open[op.Process] = op.Time
		return
	}
	t, ok := open[op.Process]
	if !ok {
		return
	}
	delete(open, op.Process)
	s := AvailabilitySample{Invoked: t, Latency: -1, Type: op.Type}
	if op.Type == history.OK || op.Type == history.Fail {
		s.Latency = op.Time - t
	}
	x.Samples = append(x.Samples, s)
}

// Batches splits the keys into groups of about maxEvents ops each, in
// order of first appearance; a key is never split.
func (x *KeyIndex) Batches(maxEvents int) [][]int {
	var out [][]int
	var cur []int
	n := 0
	for k := range x.Keys {
		if len(cur) > 0 && n+len(x.offsets[k]) > maxEvents {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, k)
		n += len(x.offsets[k])
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Load reads the ops of keys, with every nemesis op, in history order. Each
// op keeps its index in the whole history, so the result's indices are not
// dense: checkers name ops by those indices, not by position.
func (x *KeyIndex) Load(keys []int) (history.History, error) {
	var offs []int64
	for _, k := range keys {
		offs = append(offs, x.offsets[k]...)
	}
	slices.Sort(offs)
	f, err := os.Open(x.path)
	if err != nil {
		return nil, fmt.Errorf("reading history: %w", err)
	}
	defer f.Close()
	h := make(history.History, 0, len(offs)+len(x.Nemesis))
	in := interner{}
	// Lines are read in file order through one buffer: short gaps (other
	// keys' lines) are read past, long ones sought over.
	const seekGap = 4 << 20
	br := bufio.NewReaderSize(f, 1<<20)
	var pos int64
	for _, off := range offs {
		switch gap := off - pos; {
		case gap > seekGap:
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				return nil, fmt.Errorf("reading history: %w", err)
			}
			br.Reset(f)
		case gap > 0:
			if _, err := br.Discard(int(gap)); err != nil {
				return nil, fmt.Errorf("reading history: %w", err)
			}
		}
		pos = off
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading history: %w", err)
		}
		pos += int64(len(line))
		op, err := parseLine(line, in)
		if err != nil {
			return nil, fmt.Errorf("%s at byte %d: %w", x.path, off, err)
		}
		h = append(h, op)
	}
	h = append(h, x.Nemesis...)
	slices.SortFunc(h, func(a, b history.Op) int { return a.Index - b.Index })
	return h, nil
}
