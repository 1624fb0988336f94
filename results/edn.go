package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/faultline/faultline/harness/history"
)

// The EDN codec reads what Jepsen, Knossos and Elle write: a sequence or a
// vector of op maps (or of #jepsen.history.Op{...} records) with keyword
// keys. Values that are nil, booleans, numbers, strings, keywords, vectors,
// lists and maps keep their meaning. Everything else EDN allows (sets,
// tagged literals such as #object[...] or #error {...}, symbols such as
// Java class names, characters, ratios) is kept as its EDN text, an opaque
// string: a history's :error or :exception may hold anything, and none of
// it may stop a history from being read.

// WriteEDN writes h as Jepsen EDN, one op map per line:
//
//	{:index 0, :time 123, :process 0, :type :invoke, :f :read, :key "k", :value nil}
//
// The nemesis is :nemesis; :key, :node and :error appear when set.
func WriteEDN(w io.Writer, h history.History) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for _, op := range h {
		if err := writable(op); err != nil {
			return fmt.Errorf("op %d: %w", op.Index, err)
		}
		buf = appendEDNOp(buf[:0], op)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("writing EDN op %d: %w", op.Index, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing EDN history: %w", err)
	}
	return nil
}

func appendEDNOp(b []byte, op history.Op) []byte {
	b = append(b, "{:index "...)
	b = strconv.AppendInt(b, int64(op.Index), 10)
	b = append(b, ", :time "...)
	b = strconv.AppendInt(b, op.Time, 10)
	b = append(b, ", :process "...)
	if op.Process == history.Nemesis {
		b = append(b, ":nemesis"...)
	} else {
		b = strconv.AppendInt(b, int64(op.Process), 10)
	}
	b = append(b, ", :type :"...)
	b = append(b, op.Type...)
	b = append(b, ", :f "...)
	b = appendEDNName(b, op.F)
	if op.Key != "" {
		b = append(b, ", :key "...)
		b = appendEDNString(b, op.Key)
	}
	b = append(b, ", :value "...)
	b = appendEDNValue(b, op.Value)
	if op.Node != "" {
		b = append(b, ", :node "...)
		b = appendEDNString(b, op.Node)
	}
	if op.Error != "" {
		b = append(b, ", :error "...)
		b = appendEDNString(b, op.Error)
	}
	return append(b, '}')
}

// appendEDNName writes a name as a keyword when it can be one, as Jepsen
// does for :f and map keys, and as a string otherwise. Both read back as the
// same Go string.
func appendEDNName(b []byte, s string) []byte {
	if isKeywordName(s) {
		return append(append(b, ':'), s...)
	}
	return appendEDNString(b, s)
}

// isKeywordName is deliberately narrower than EDN's keyword syntax: no '/',
// ':' or '#', and no leading digit, so that any EDN reader takes it back
// unchanged.
func isKeywordName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.IndexByte("*+!-_?<>=", c) >= 0:
		case i > 0 && (c >= '0' && c <= '9' || c == '.'):
		default:
			return false
		}
	}
	// "-1" and "+5" would read as numbers.
	if (s[0] == '-' || s[0] == '+') && len(s) > 1 && s[1] >= '0' && s[1] <= '9' {
		return false
	}
	return true
}

func appendEDNValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "nil"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return append(b, s...)
	case string:
		return appendEDNString(b, x)
	case []int64:
		b = append(b, '[')
		for i, n := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, n, 10)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendEDNValue(b, e)
		}
		return append(b, ']')
	case history.Txn:
		b = append(b, '[')
		for i, m := range x {
			if i > 0 {
				b = append(b, ' ')
			}
			b = append(append(append(b, '[', ':'), m.F...), ' ')
			if history.IsIntKey(m.Key) {
				b = append(b, m.Key...)
			} else {
				b = appendEDNString(b, m.Key)
			}
			b = append(b, ' ')
			b = append(appendEDNValue(b, m.Value), ']')
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendEDNName(b, k)
			b = append(b, ' ')
			b = appendEDNValue(b, x[k])
		}
		return append(b, '}')
	}
	// writable has already refused anything else.
	return appendEDNString(b, fmt.Sprint(v))
}

func appendEDNString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x20 || r == 0x7f:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// ReadEDN reads a history of op maps: either a sequence of maps (as WriteEDN
// and Jepsen's history.edn write it) or one vector of them. Keys other than
// the op fields are ignored, since Jepsen adds its own. The ops are put in
// faultline's order and numbering (see normalizeOrder), and the warnings say
// what that changed.
func ReadEDN(r io.Reader) (history.History, []string, error) {
	h, err := readEDN(r)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := normalizeOrder(h)
	if err != nil {
		return nil, nil, err
	}
	return h, warnings, nil
}

func readEDN(r io.Reader) (history.History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading EDN history: %w", err)
	}
	p := &ednParser{data: data, line: 1}
	p.skipSpace()
	if p.pos < len(p.data) && (p.data[p.pos] == '[' || p.data[p.pos] == '(') {
		line := p.line
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos < len(p.data) {
			return nil, fmt.Errorf("EDN line %d: text after the history vector", p.line)
		}
		var h history.History
		for i, e := range v.(ednSeq).items {
			op, err := ednToOp(e, i)
			if err != nil {
				return nil, fmt.Errorf("EDN history (vector at line %d), element %d: %w", line, i, err)
			}
			h = append(h, op)
		}
		return h, nil
	}
	var h history.History
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return h, nil
		}
		if p.data[p.pos] == '#' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '_' {
			p.pos += 2
			if _, err := p.value(0); err != nil {
				return nil, err
			}
			continue
		}
		line := p.line
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		op, err := ednToOp(v, len(h))
		if err != nil {
			return nil, fmt.Errorf("EDN line %d: %w", line, err)
		}
		h = append(h, op)
	}
}

// ednToOp converts one parsed op map; pos is its position in the history.
// An op record (#jepsen.history.Op{...}) is read as its map. :index and
// :time may be missing (Knossos and elle-cli histories have neither): the
// op then carries noIndex or noTime, and normalizeOrder numbers it and
// takes file order as real-time order. An op with no :f whose value is a
// transaction is a transaction, as in Elle's histories.
func ednToOp(v any, pos int) (history.Op, error) {
	if t, ok := v.(ednTagged); ok {
		v = t.val
	}
	m, ok := v.(ednMap)
	if !ok {
		return history.Op{}, fmt.Errorf("op is %s, want a map", ednKind(v))
	}
	op := history.Op{Index: noIndex, Time: noTime}
	seen := map[string]bool{}
	for _, kv := range m {
		k, ok := kv.key.(ednKeyword)
		if !ok {
			continue // not an op field; Jepsen tools sometimes add others
		}
		name := string(k)
		if seen[name] {
			return history.Op{}, fmt.Errorf("duplicate key :%s", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "index":
			var n int64
			n, err = ednInt(kv.val, name)
			if err == nil && (n < 0 || n > math.MaxInt32) {
				err = fmt.Errorf(":index %d is out of range", n)
			}
			op.Index = int(n)
		case "time":
			op.Time, err = ednInt(kv.val, name)
			if err == nil && op.Time < 0 {
				err = fmt.Errorf(":time %d is negative (times count from the test's start)", op.Time)
			}
		case "process":
			switch p := kv.val.(type) {
			case ednKeyword:
				if p != "nemesis" {
					err = fmt.Errorf(":process :%s is not :nemesis or a number", p)
				}
				op.Process = history.Nemesis
			default:
				var n int64
				n, err = ednInt(kv.val, name)
				if err == nil && (n < 0 || n > math.MaxInt32) {
					err = fmt.Errorf(":process %d is out of range (want 0 or more, or :nemesis)", n)
				}
				op.Process = history.Process(n)
			}
		case "type":
			t, ok := kv.val.(ednKeyword)
			if !ok || !history.Type(t).Valid() {
				err = fmt.Errorf(":type %s is not :invoke, :ok, :fail or :info", ednText(kv.val))
			}
			op.Type = history.Type(t)
		case "f":
			op.F, err = ednName(kv.val, name)
			if err == nil && op.F == "" {
				err = errors.New(":f is empty")
			}
		case "key":
			op.Key = ednLoose(kv.val)
		case "node":
			op.Node = ednLoose(kv.val)
		case "error":
			op.Error = ednLoose(kv.val)
		case "exception":
			if op.Error == "" {
				op.Error = ednLoose(kv.val)
			}
		case "value":
			op.Value, err = ednCanonical(kv.val)
		}
		if err != nil {
			return history.Op{}, err
		}
	}
	if !seen["process"] {
		return history.Op{}, errors.New("missing :process (faultline pairs each invocation with its completion by process, so every op needs one)")
	}
	if !seen["type"] {
		return history.Op{}, errors.New("missing :type (:invoke, :ok, :fail or :info)")
	}
	if !seen["f"] {
		if !looksLikeTxn(op.Value) {
			return history.Op{}, errors.New("missing :f (only a transaction, a value of [f key value] micro-ops, may leave it out)")
		}
		op.F = history.TxnF
	}
	if op.F == history.TxnF {
		if err := txnValue(&op); err != nil {
			return history.Op{}, err
		}
	}
	return op, nil
}

func ednInt(v any, field string) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf(":%s is %s, want an integer", field, ednKind(v))
	}
	return n, nil
}

func ednName(v any, field string) (string, error) {
	switch x := v.(type) {
	case ednKeyword:
		return string(x), nil
	case string:
		return x, nil
	}
	return "", fmt.Errorf(":%s is %s, want a keyword or string", field, ednKind(v))
}

// ednLoose turns a key, node or error into our string field. Jepsen writes
// errors as keywords or vectors ([:timeout]); their EDN text keeps the
// meaning.
func ednLoose(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case ednKeyword:
		return string(x)
	}
	return ednText(v)
}

// ednCanonical converts a parsed value into history's canonical form.
func ednCanonical(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, string:
		return x, nil
	case float64:
		return canonicalFloat(x), nil
	case ednKeyword:
		return string(x), nil
	case ednSeq:
		out := make([]any, len(x.items))
		for i, e := range x.items {
			c, err := ednCanonical(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return history.Normalize(out), nil
	case ednMap:
		out := make(map[string]any, len(x))
		for _, kv := range x {
			k := ednLoose(kv.key)
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("map key %s appears twice", ednText(kv.key))
			}
			c, err := ednCanonical(kv.val)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case ednOpaque:
		return string(x), nil
	case ednTagged:
		return x.text, nil
	}
	return nil, fmt.Errorf("unsupported value %s", ednKind(v))
}

// Parsed EDN forms. Vectors and lists are both ednSeq: our histories do
// not tell them apart. ednOpaque is a form kept as its EDN text; ednTagged
// is a tagged literal, whose value an op record (#jepsen.history.Op{...})
// needs and whose text every other use keeps.
type (
	ednKeyword string
	ednSeq     struct{ items []any }
	ednMap     []ednPair
	ednPair    struct{ key, val any }
	ednOpaque  string
	ednTagged  struct {
		tag  string
		val  any
		text string
	}
)

func ednKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case ednKeyword:
		return "a keyword"
	case ednSeq:
		return "a vector"
	case ednMap:
		return "a map"
	case ednOpaque:
		return "the form " + string(x)
	case ednTagged:
		return "the tagged form " + x.text
	}
	return fmt.Sprintf("%T", v)
}

// ednText prints a parsed form back as EDN.
func ednText(v any) string {
	switch x := v.(type) {
	case ednKeyword:
		return ":" + string(x)
	case ednSeq:
		parts := make([]string, len(x.items))
		for i, e := range x.items {
			parts[i] = ednText(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case ednMap:
		parts := make([]string, len(x))
		for i, kv := range x {
			parts[i] = ednText(kv.key) + " " + ednText(kv.val)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case ednOpaque:
		return string(x)
	case ednTagged:
		return x.text
	}
	return string(appendEDNValue(nil, v))
}

// maxEDNDepth bounds nesting so hostile input cannot exhaust the stack.
const maxEDNDepth = 100

type ednParser struct {
	data []byte
	pos  int
	line int
	// oneLine is set when the caller names the line itself.
	oneLine bool
}

func (p *ednParser) errorf(format string, args ...any) error {
	if p.oneLine {
		return fmt.Errorf(format, args...)
	}
	return fmt.Errorf("EDN line %d: %s", p.line, fmt.Sprintf(format, args...))
}

// skipSpace skips whitespace, commas and comments.
func (p *ednParser) skipSpace() {
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; c {
		case '\n':
			p.line++
			p.pos++
		case ' ', '\t', '\r', ',', '\f':
			p.pos++
		case ';':
			for p.pos < len(p.data) && p.data[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func isDelimiter(c byte) bool {
	return strings.IndexByte(" \t\r\n\f,()[]{}\";", c) >= 0
}

// token returns the run of bytes up to the next delimiter.
func (p *ednParser) token() string {
	start := p.pos
	for p.pos < len(p.data) && !isDelimiter(p.data[p.pos]) {
		p.pos++
	}
	return string(p.data[start:p.pos])
}

func (p *ednParser) value(depth int) (any, error) {
	if depth > maxEDNDepth {
		return nil, p.errorf("nested deeper than %d", maxEDNDepth)
	}
	p.skipSpace()
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '"':
		return p.str()
	case c == ':':
		p.pos++
		name := p.token()
		if name == "" {
			return nil, p.errorf("empty keyword")
		}
		return ednKeyword(strings.ToValidUTF8(name, "\uFFFD")), nil
	case c == '[':
		return p.seq(']', depth)
	case c == '(':
		return p.seq(')', depth)
	case c == '{':
		return p.mapping(depth)
	case c == '#':
		return p.dispatch(depth)
	case c == '^': // metadata: read and drop it, keep the form it annotates
		p.pos++
		if _, err := p.value(depth + 1); err != nil {
			return nil, err
		}
		return p.value(depth)
	case c == '\\':
		start := p.pos
		p.pos++
		if p.pos < len(p.data) {
			p.pos++ // the character itself, even a delimiter
		}
		p.token() // named characters: \newline, \u00e9
		return opaque(p.data[start:p.pos]), nil
	case c == ')' || c == ']' || c == '}':
		return nil, p.errorf("unexpected %q", c)
	case c >= '0' && c <= '9', (c == '-' || c == '+') && p.pos+1 < len(p.data) && p.data[p.pos+1] >= '0' && p.data[p.pos+1] <= '9':
		return p.number()
	}
	switch tok := p.token(); tok {
	case "":
		return nil, p.errorf("unexpected %q", p.data[p.pos])
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return opaque([]byte(tok)), nil // a symbol, such as a Java class name
	}
}

// opaque keeps a form as its text, which must be valid UTF-8 to be written
// back as a string.
func opaque(b []byte) ednOpaque {
	return ednOpaque(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// dispatch reads the forms that start with '#': sets, discarded forms,
// tagged literals and records, regular expressions, symbolic values and
// namespaced maps.
func (p *ednParser) dispatch(depth int) (any, error) {
	start := p.pos
	p.pos++
	if p.pos >= len(p.data) {
		return nil, p.errorf("a lone '#' at the end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '_': // #_form: the reader discards the next form
		p.pos++
		if _, err := p.value(depth + 1); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("#_ discards the last form of the input, so no value is left")
		}
		return p.value(depth)
	case c == '{': // a set
		if _, err := p.seq('}', depth); err != nil {
			return nil, err
		}
	case c == '"': // a regular expression
		if _, err := p.str(); err != nil {
			return nil, err
		}
	case c == '#': // ##Inf, ##NaN
		p.pos++
		p.token()
	case c == ':': // #:ns{...}, a namespaced map: its keys lose the namespace
		p.pos++
		p.token()
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '{' {
			return nil, p.errorf("a namespaced map (#:ns) must be followed by a map")
		}
		return p.mapping(depth)
	default: // #tag form, and records such as #jepsen.history.Op{...}
		tag := p.token()
		if tag == "" {
			return nil, p.errorf("'#' must be followed by a tag, '{', '_', '\"' or ':'")
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		return ednTagged{tag: tag, val: v, text: string(opaque(p.data[start:p.pos]))}, nil
	}
	return opaque(p.data[start:p.pos]), nil
}

func (p *ednParser) number() (any, error) {
	raw := p.token()
	tok := raw
	switch {
	case strings.Contains(tok, "/"): // a ratio
		return opaque([]byte(raw)), nil
	case strings.HasSuffix(tok, "N"):
		tok = strings.TrimSuffix(tok, "N")
	case strings.HasSuffix(tok, "M"):
		tok = strings.TrimSuffix(tok, "M")
		if !strings.ContainsAny(tok, ".eE") {
			tok += ".0"
		}
	}
	if !strings.ContainsAny(tok, ".eE") || strings.ContainsAny(tok, "xX") {
		// Base 0 reads 0x1F and Clojure's octal 017 as Clojure does.
		n, err := strconv.ParseInt(tok, 0, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return opaque([]byte(raw)), nil // a big integer: kept as its text
			}
			return nil, p.errorf("bad integer %q", raw)
		}
		return n, nil
	}
	if strings.ContainsAny(tok, "pP_") {
		return nil, p.errorf("bad number %q", raw)
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return opaque([]byte(raw)), nil
		}
		return nil, p.errorf("bad number %q", raw)
	}
	return f, nil
}

func (p *ednParser) str() (any, error) {
	p.pos++ // opening quote
	var b []byte
	for {
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		p.pos++
		switch c {
		case '"':
			return strings.ToValidUTF8(string(b), "\uFFFD"), nil
		case '\n':
			p.line++
			b = append(b, c)
		case '\\':
			if p.pos >= len(p.data) {
				return nil, p.errorf("unterminated string")
			}
			e := p.data[p.pos]
			p.pos++
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					r2 := rune(utf8.RuneError)
					if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						save := p.pos
						p.pos += 2
						if r2, err = p.hex4(); err != nil {
							return nil, err
						}
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
						} else {
							p.pos = save // a lone surrogate; the next escape stands alone
							r = utf8.RuneError
						}
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, p.errorf("bad string escape \\%c", e)
			}
		default:
			b = append(b, c)
		}
	}
}

func (p *ednParser) hex4() (rune, error) {
	if p.pos+4 > len(p.data) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, p.errorf("bad \\u escape %q", p.data[p.pos:p.pos+4])
	}
	p.pos += 4
	return rune(n), nil
}

func (p *ednParser) seq(end byte, depth int) (any, error) {
	p.pos++
	var items []any
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated vector or list (missing %q)", end)
		}
		if p.data[p.pos] == end {
			p.pos++
			return ednSeq{items: items}, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
}

func (p *ednParser) mapping(depth int) (any, error) {
	p.pos++
	var m ednMap
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated map (missing '}')")
		}
		if p.data[p.pos] == '}' {
			p.pos++
			return m, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			return nil, p.errorf("map has a key without a value")
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m = append(m, ednPair{k, v})
	}
}
