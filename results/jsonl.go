package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faultline/faultline/harness/history"
)

// maxLineBytes bounds one history line. Nemesis values (grudges, node lists)
// are the only large ones, and nothing legitimate comes near this.
const maxLineBytes = 64 << 20

// JSONLWriter writes a history as JSON Lines, one op per line, with the
// field names of history.Op's JSON tags.
type JSONLWriter struct {
	enc *json.Encoder
}

// NewJSONLWriter returns a writer that issues exactly one w.Write per op and
// keeps nothing back, so that whatever the caller flushes is a whole number
// of lines (a killed run then leaves at most one truncated line).
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	enc := json.NewEncoder(w)
	// Keys and errors come from systems under test; "<" written as \u003c
	// only makes the file harder to grep.
	enc.SetEscapeHTML(false)
	return &JSONLWriter{enc: enc}
}

// Write appends one op. It refuses ops that ReadJSONL would reject, so a
// history that was written can always be read back.
func (w *JSONLWriter) Write(op history.Op) error {
	if err := writable(op); err != nil {
		return fmt.Errorf("op %d: %w", op.Index, err)
	}
	if err := w.enc.Encode(op); err != nil {
		return fmt.Errorf("op %d: writing history line: %w", op.Index, err)
	}
	return nil
}

// writable holds the rules both codecs enforce on write.
func writable(op history.Op) error {
	if !op.Type.Valid() {
		return fmt.Errorf("unknown type %q (want invoke, ok, fail or info)", op.Type)
	}
	if op.F == "" {
		return errors.New("f is empty")
	}
	if op.Process < history.Nemesis {
		return fmt.Errorf("process %d is negative (only the nemesis, -1, may be)", op.Process)
	}
	return checkValue(op.Value)
}

// checkValue rejects values outside the canonical set, which neither codec
// can write back faithfully.
func checkValue(v any) error {
	switch x := v.(type) {
	case nil, int64, []int64, string, bool:
		return nil
	case history.Txn:
		for _, m := range x {
			if err := checkValue(m.Value); err != nil {
				return err
			}
		}
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("value %v is not a finite number", x)
		}
		return nil
	case []any:
		for _, e := range x {
			if err := checkValue(e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for _, e := range x {
			if err := checkValue(e); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("value of type %T is not canonical (normalize it with history.Normalize)", v)
}

// errTruncated marks a line that ends before its JSON does.
var errTruncated = errors.New("truncated JSON")

// ReadJSONL reads a history written by JSONLWriter, or JSON lines written
// by another tool (see parseJSONLLine). A malformed line is an error naming
// the line. A final line that is cut short (no newline and not parseable,
// as a killed recorder leaves it) is dropped with a warning, and the
// complete lines before it are returned.
func ReadJSONL(r io.Reader) (history.History, []string, error) {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			br := bufio.NewReaderSize(f, sniffBytes)
			head, _ := br.Peek(sniffBytes)
			return readJSONLSized(br, estimateOps(head, fi.Size()))
		}
	}
	return readJSONLSized(r, 0)
}

// readJSONLSized is ReadJSONL told about how many ops the input holds, when
// known, so that it can keep them in one array sized up front rather than
// gather them in chunks and copy them all at the end.
func readJSONLSized(r io.Reader, ops int64) (history.History, []string, error) {
	h, warnings, err := readJSONL(r, ops)
	if err != nil {
		return nil, nil, err
	}
	order, err := normalizeOrder(h)
	if err != nil {
		return nil, nil, err
	}
	return h, append(warnings, order...), nil
}

func readJSONL(r io.Reader, ops int64) (history.History, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLineBytes)
	sc.Split(scanLinesKeepNewline)
	// Ops gather in fixed-size chunks joined once at the end: growing one
	// slice to a million ops would copy it again at every doubling.
	var chunks []history.History
	var cur history.History
	if ops > 0 {
		cur = make(history.History, 0, ops+16)
	}
	var warnings []string
	in := interner{}
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		op, ok := parseJSONLFast(line, in)
		var err error
		if !ok {
			op, err = parseJSONLLine(line)
		}
		if err == nil && op.F == history.TxnF {
			err = txnValue(&op)
		}
		if err != nil {
			if !complete && errors.Is(err, errTruncated) {
				warnings = append(warnings, fmt.Sprintf("line %d is truncated (the run was probably killed); checking the %d complete lines before it", n, n-1))
				break
			}
			return nil, nil, fmt.Errorf("history line %d: %w", n, err)
		}
		if len(cur) == cap(cur) {
			if len(cur) > 0 {
				chunks = append(chunks, cur)
			}
			cur = make(history.History, 0, jsonlChunk)
		}
		cur = append(cur, op)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("history line %d: longer than %d MiB", n+1, maxLineBytes>>20)
		}
		return nil, nil, fmt.Errorf("reading history after line %d: %w", n, err)
	}
	if len(chunks) == 0 {
		return cur, warnings, nil
	}
	h := make(history.History, 0, len(chunks)*jsonlChunk+len(cur))
	for _, c := range chunks {
		h = append(h, c...)
	}
	return append(h, cur...), warnings, nil
}

// jsonlChunk is how many ops ReadJSONL gathers before starting a new chunk.
const jsonlChunk = 1 << 16

// minLineBytes is about the shortest line of a faultline history
// ({"index":0,"time":1,"process":0,"type":"ok","f":"read","value":null}),
// for an estimate of the ops in a file that never falls short.
const minLineBytes = 64

// estimateOps guesses how many lines a file of size bytes holds from the
// lines of its first bytes, a little high so that the guess rarely falls
// short (then the rest goes in chunks).
func estimateOps(head []byte, size int64) int64 {
	lines := int64(bytes.Count(head, []byte{'\n'}))
	if size <= 0 || lines == 0 {
		return 0
	}
	if int64(len(head)) >= size {
		return lines + 1
	}
	return size*lines/int64(len(head))*11/10 + 64
}

// scanLinesKeepNewline is bufio.ScanLines without stripping the newline:
// ReadJSONL needs to know whether the last line was finished.
func scanLinesKeepNewline(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// parseJSONLLine reads one op with encoding/json: every line the fast path
// leaves, and every op of a JSON array. It is lenient in what other tools
// write (elle-cli, Knossos' JSON): fields it does not know are ignored,
// :index and :time may be missing (normalizeOrder then numbers ops and takes
// file order as real-time order), and a transaction may leave out f.
func parseJSONLLine(line []byte) (history.Op, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return history.Op{}, fmt.Errorf("%w: %v", errTruncated, err)
		}
		return history.Op{}, fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return history.Op{}, errors.New("bad JSON: text after the object (one op per line)")
	}
	return jsonToOp(raw)
}

// jsonToOp converts one decoded JSON op.
func jsonToOp(raw map[string]json.RawMessage) (history.Op, error) {
	op := history.Op{Index: noIndex, Time: noTime}
	present := func(name string) bool {
		v, ok := raw[name]
		return ok && string(v) != "null"
	}
	if present("index") {
		if err := json.Unmarshal(raw["index"], &op.Index); err != nil || op.Index < 0 {
			return op, fmt.Errorf("index %s is not a non-negative integer", raw["index"])
		}
	}
	if present("time") {
		if err := json.Unmarshal(raw["time"], &op.Time); err != nil || op.Time < 0 {
			return op, fmt.Errorf("time %s is not a non-negative integer (ns since the test started)", raw["time"])
		}
	}
	if !present("process") {
		return op, errors.New(`missing "process"`)
	}
	p := raw["process"]
	if string(p) == `":nemesis"` {
		p = json.RawMessage(`"nemesis"`)
	}
	if err := op.Process.UnmarshalJSON(p); err != nil {
		return op, err
	}
	if !present("type") {
		return op, errors.New(`missing "type"`)
	}
	typ, err := jsonName(raw["type"], "type")
	if err != nil {
		return op, err
	}
	op.Type = history.Type(typ)
	if !op.Type.Valid() {
		return op, fmt.Errorf("unknown type %q (want invoke, ok, fail or info)", typ)
	}
	if op.Value, err = decodeJSONValue(raw["value"]); err != nil {
		return op, fmt.Errorf("value: %w", err)
	}
	switch {
	case present("f"):
		if op.F, err = jsonName(raw["f"], "f"); err != nil {
			return op, err
		}
		if op.F == "" {
			return op, errors.New("f is empty")
		}
	case looksLikeTxn(op.Value):
		op.F = history.TxnF
	default:
		return op, errors.New(`missing "f" (only a transaction, a value of [f key value] micro-ops, may leave it out)`)
	}
	for name, dst := range map[string]*string{"key": &op.Key, "node": &op.Node, "error": &op.Error} {
		if present(name) {
			*dst = jsonLoose(raw[name])
		}
	}
	if op.Error == "" && present("exception") {
		op.Error = jsonLoose(raw["exception"])
	}
	return op, nil
}

// jsonName reads type or f: a string, with the leading colon a keyword
// printed by a Clojure tool may keep.
func jsonName(raw json.RawMessage, field string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s %s is not a string", field, raw)
	}
	return strings.TrimPrefix(s, ":"), nil
}

// jsonLoose turns a key, node or error into our string field: a string as
// it is, anything else (a number, an exception object) as its JSON text.
func jsonLoose(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// ReadJSON reads a history written as one JSON array of ops, as elle-cli
// and Knossos export them. Ops are numbered and ordered as ReadJSONL does.
func ReadJSON(r io.Reader) (history.History, []string, error) {
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return nil, nil, fmt.Errorf("a JSON history must be an array of ops: %v", err)
	}
	var h history.History
	for dec.More() {
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("JSON history, op %d: %w", len(h), err)
		}
		op, err := jsonToOp(raw)
		if err == nil && op.F == history.TxnF {
			err = txnValue(&op)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("JSON history, op %d: %w", len(h), err)
		}
		h = append(h, op)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("JSON history after op %d: %w", len(h), err)
	}
	warnings, err := normalizeOrder(h)
	if err != nil {
		return nil, nil, err
	}
	return h, warnings, nil
}

// decodeJSONValue turns a raw JSON value into canonical form. Plain
// integers, the common case, skip the generic decoder.
func decodeJSONValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	v, err := canonicalNumbers(v)
	if err != nil {
		return nil, err
	}
	return history.Normalize(v), nil
}

// canonicalNumbers resolves json.Numbers before history.Normalize sees them:
// an integral number is an int64 however it is spelled (1, 1.0, 1e0), so the
// value reads back the same after it is written, and a number no float64
// holds is an error rather than an infinity.
func canonicalNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", x)
		}
		return canonicalFloat(f), nil
	case []any:
		for i, e := range x {
			c, err := canonicalNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
	case map[string]any:
		for k, e := range x {
			c, err := canonicalNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
	}
	return v, nil
}

// canonicalFloat returns f as an int64 when it is integral and in range.
func canonicalFloat(f float64) any {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return f
}

// The fast path. encoding/json costs several microseconds a line, mostly
// reflection and a decoder per line, which makes a million-op history slow
// to re-check. Lines as JSONLWriter writes them for client ops are simple:
// known fields, integers, plain strings, null, and lists of integers.
// parseJSONLFast handles exactly those and gives up (ok false) on anything
// else, leaving it to parseJSONLLine; FuzzReadJSONL holds the two to the
// same answers.

// interner shares the strings that repeat on every line (f, type, key,
// node) instead of allocating them again for each op.
type interner map[string]string

// maxInterned bounds the interner, so a history of unique keys does not
// keep a second copy of every key.
const maxInterned = 1 << 14

func (in interner) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

type fastScanner struct {
	b []byte
	i int
}

func (s *fastScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *fastScanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string with no escapes and only valid UTF-8, returning its
// bytes.
func (s *fastScanner) str() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(out) {
				return nil, false
			}
			return out, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

// int reads a JSON integer (no fraction or exponent) that fits in int64.
func (s *fastScanner) int() (int64, bool) {
	s.space()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}

func (s *fastScanner) null() bool {
	s.space()
	if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// skipComposite finds the end of the object or array at s.i, minding
// strings, and leaves the syntax to the decoder.
func (s *fastScanner) skipComposite() ([]byte, bool) {
	start, depth := s.i, 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return s.b[start:s.i], true
			}
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
		}
		s.i++
	}
	return nil, false
}

// value reads null, an integer, a plain string or a list of integers
// itself, and hands other objects and arrays to the decoder.
func (s *fastScanner) value() (any, bool) {
	s.space()
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == 'n':
		return nil, s.null()
	case c == '"':
		b, ok := s.str()
		return string(b), ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.int()
	case c == '[':
		start := s.i
		s.i++
		out := []int64{}
		if s.byte(']') {
			return out, true
		}
		for {
			n, ok := s.int()
			if !ok {
				s.i = start
				return s.composite()
			}
			out = append(out, n)
			if s.byte(']') {
				return out, true
			}
			if !s.byte(',') {
				s.i = start
				return s.composite()
			}
		}
	case c == '{':
		return s.composite()
	}
	return nil, false
}

// composite reads an object or an array into canonical form (see
// history.Normalize) without encoding/json, which would cost a decoder and
// dozens of allocations for each nemesis op. Anything it does not take
// (an escape in a string, a number out of range, bad syntax) gives up and
// leaves the line to parseJSONLLine, which also words the error.
func (s *fastScanner) composite() (any, bool) {
	return s.any(0)
}

// maxJSONDepth bounds nesting on the fast path; deeper values take the
// slow one.
const maxJSONDepth = 64

func (s *fastScanner) any(depth int) (any, bool) {
	s.space()
	if s.i >= len(s.b) || depth > maxJSONDepth {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == 'n':
		return nil, s.null()
	case c == 't':
		return true, s.word("true")
	case c == 'f':
		return false, s.word("false")
	case c == '"':
		b, ok := s.str()
		return string(b), ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == '[':
		s.i++
		var out []any
		ints := true
		if !s.byte(']') {
			for {
				v, ok := s.any(depth + 1)
				if !ok {
					return nil, false
				}
				_, isInt := v.(int64)
				ints = ints && isInt
				out = append(out, v)
				if s.byte(']') {
					break
				}
				if !s.byte(',') {
					return nil, false
				}
			}
		}
		if !ints {
			return out, true
		}
		l := make([]int64, len(out))
		for i, v := range out {
			l[i] = v.(int64)
		}
		return l, true
	case c == '{':
		s.i++
		m := map[string]any{}
		if s.byte('}') {
			return m, true
		}
		for {
			k, ok := s.str()
			if !ok || !s.byte(':') {
				return nil, false
			}
			v, ok := s.any(depth + 1)
			if !ok {
				return nil, false
			}
			m[string(k)] = v
			if s.byte('}') {
				return m, true
			}
			if !s.byte(',') {
				return nil, false
			}
		}
	}
	return nil, false
}

// word reads a literal such as true.
func (s *fastScanner) word(w string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(w)) {
		return false
	}
	s.i += len(w)
	return true
}

// number reads a JSON number into canonical form: an int64 when integral
// and in range however it is spelled, else a float64.
func (s *fastScanner) number() (any, bool) {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return nil, false
	}
	integral := true
	if s.i < len(s.b) && s.b[s.i] == '.' {
		integral = false
		s.i++
		frac := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == frac {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		integral = false
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		exp := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == exp {
			return nil, false
		}
	}
	tok := string(s.b[start:s.i])
	if integral {
		if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
			return n, true
		}
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return nil, false
	}
	return canonicalFloat(f), true
}

// parseJSONLFast parses a simple line, or reports ok false when the line
// needs the full decoder (which also produces every error message).
func parseJSONLFast(line []byte, in interner) (op history.Op, ok bool) {
	s := fastScanner{b: line}
	if !s.byte('{') {
		return op, false
	}
	const (
		hasIndex = 1 << iota
		hasTime
		hasProcess
		hasType
		hasF
		hasKey
		hasValue
		hasNode
		hasError
	)
	var seen int
	for first := true; ; first = false {
		if s.byte('}') {
			if first {
				return op, false
			}
			break
		}
		if !first && !s.byte(',') {
			return op, false
		}
		name, ok := s.str()
		if !ok || !s.byte(':') {
			return op, false
		}
		var bit int
		switch string(name) {
		case "index":
			bit = hasIndex
			n, ok := s.int()
			if !ok || n < 0 || n > math.MaxInt32 {
				return op, false
			}
			op.Index = int(n)
		case "time":
			bit = hasTime
			if op.Time, ok = s.int(); !ok || op.Time < 0 {
				return op, false
			}
		case "process":
			bit = hasProcess
			s.space()
			if s.i < len(s.b) && s.b[s.i] == '"' {
				p, ok := s.str()
				if !ok || string(p) != "nemesis" {
					return op, false
				}
				op.Process = history.Nemesis
				break
			}
			n, ok := s.int()
			if !ok || n < 0 || n > math.MaxInt {
				return op, false
			}
			op.Process = history.Process(n)
		case "type", "f", "key", "node", "error":
			b, ok := s.str()
			if !ok {
				return op, false
			}
			switch string(name) {
			case "type":
				bit, op.Type = hasType, history.Type(in.get(b))
			case "f":
				bit, op.F = hasF, in.get(b)
			case "key":
				bit, op.Key = hasKey, in.get(b)
			case "node":
				bit, op.Node = hasNode, in.get(b)
			default:
				bit, op.Error = hasError, in.get(b)
			}
		case "value":
			bit = hasValue
			if op.Value, ok = s.value(); !ok {
				return op, false
			}
		default:
			return op, false
		}
		if seen&bit != 0 {
			return op, false // duplicate field: the full decoder's rules apply
		}
		seen |= bit
	}
	s.space()
	const required = hasIndex | hasTime | hasProcess | hasType | hasF
	if s.i != len(s.b) || seen&required != required || !op.Type.Valid() || op.F == "" {
		return op, false
	}
	return op, true
}
