package results

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/faultline/faultline/harness/history"
)

// jepsenMarker starts the op part of a line Jepsen's jepsen.util logger
// wrote, e.g. "INFO  jepsen.util - 3	:invoke	:cas	[3 0]".
var jepsenMarker = []byte("jepsen.util - ")

// ReadJepsenLog imports a Jepsen log of a single-register test, in the form
// of porcupine's test_data/jepsen/etcd_*.log. Each op line becomes one op:
// indices are dense, the time is the line number, the process is Jepsen's,
// the key is "" (one register). A keyword in place of a completion's value
// (":timed-out") becomes the op's Error and the value repeats the
// invocation's. A nemesis :info with no open nemesis op is its invocation,
// as Jepsen logs both halves as :info. Lines from other loggers are
// skipped; an op line that does not parse is an error naming the line.
func ReadJepsenLog(r io.Reader) (history.History, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var h history.History
	open := map[history.Process]history.Op{}
	n, skipped := 0, 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		i := bytes.Index(line, jepsenMarker)
		if i < 0 {
			if len(bytes.TrimSpace(line)) > 0 {
				skipped++
			}
			continue
		}
		op, err := parseJepsenOp(line[i+len(jepsenMarker):])
		if err != nil {
			return nil, fmt.Errorf("Jepsen log line %d: %w", n, err)
		}
		op.Index, op.Time = len(h), int64(n)
		inv, isOpen := open[op.Process]
		if op.Process == history.Nemesis && op.Type == history.Info && !isOpen {
			op.Type = history.Invoke
		}
		if op.Type == history.Invoke {
			if isOpen {
				return nil, fmt.Errorf("Jepsen log line %d: process %s invokes %s while its %s from line %d is still open", n, op.Process, op.F, inv.F, inv.Time)
			}
			if e, ok := op.Value.(jepsenKeyword); ok {
				op.Value = string(e)
			}
			open[op.Process] = op
			h = append(h, op)
			continue
		}
		if !isOpen {
			return nil, fmt.Errorf("Jepsen log line %d: process %s completes %s, which it never invoked", n, op.Process, op.F)
		}
		if op.F != inv.F {
			return nil, fmt.Errorf("Jepsen log line %d: process %s completes %s, but its open op (line %d) is %s", n, op.Process, op.F, inv.Time, inv.F)
		}
		if e, ok := op.Value.(jepsenKeyword); ok {
			if op.IsClient() {
				op.Error, op.Value = string(e), inv.Value
			} else {
				op.Value = string(e)
			}
		}
		delete(open, op.Process)
		h = append(h, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading Jepsen log after line %d: %w", n, err)
	}
	if len(h) == 0 && skipped > 0 {
		return nil, fmt.Errorf("no jepsen.util op lines in %d lines: not a Jepsen log of operations", skipped)
	}
	return h, nil
}

// jepsenKeyword marks a keyword value (such as :timed-out) until
// ReadJepsenLog decides whether it is an error or a nemesis value.
type jepsenKeyword string

// parseJepsenOp parses "<process> <:type> <:f> [value]", which Jepsen
// prints as EDN separated by tabs.
func parseJepsenOp(text []byte) (history.Op, error) {
	p := &ednParser{data: text, line: 1, oneLine: true}
	var op history.Op
	proc, err := p.value(0)
	if err != nil {
		return op, fmt.Errorf("process: %w", err)
	}
	switch x := proc.(type) {
	case int64:
		if x < 0 || x > 1<<31-1 {
			return op, fmt.Errorf("process %d is out of range", x)
		}
		op.Process = history.Process(x)
	case ednKeyword:
		if x != "nemesis" {
			return op, fmt.Errorf("process :%s is not a number or :nemesis", x)
		}
		op.Process = history.Nemesis
	default:
		return op, fmt.Errorf("process is %s, want a number or :nemesis", ednKind(proc))
	}
	typ, err := p.value(0)
	if err != nil {
		return op, fmt.Errorf("type: %w", err)
	}
	if t, ok := typ.(ednKeyword); !ok || !history.Type(t).Valid() {
		return op, fmt.Errorf("type %s is not :invoke, :ok, :fail or :info", ednText(typ))
	}
	op.Type = history.Type(typ.(ednKeyword))
	f, err := p.value(0)
	if err != nil {
		return op, fmt.Errorf("f: %w", err)
	}
	if op.F, err = ednName(f, "f"); err != nil {
		return op, err
	}
	p.skipSpace()
	if p.pos == len(p.data) {
		return op, nil // no value printed: nil
	}
	v, err := p.value(0)
	if err != nil {
		return op, fmt.Errorf("value: %w", err)
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return op, errors.New("text after the value")
	}
	if k, ok := v.(ednKeyword); ok {
		op.Value = jepsenKeyword(k)
		return op, nil
	}
	if op.Value, err = ednCanonical(v); err != nil {
		return op, fmt.Errorf("value: %w", err)
	}
	return op, nil
}
