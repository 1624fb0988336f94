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

// The EDN codec speaks the subset of EDN that Jepsen histories use: one map
// per op with keyword keys, and values that are nil, booleans, numbers,
// strings, keywords, vectors, lists and maps. Sets, tagged literals,
// characters and symbols other than nil/true/false are refused with an
// error rather than guessed at.

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
// the op fields are ignored, since Jepsen adds its own. An op without :index
// gets its position.
func ReadEDN(r io.Reader) (history.History, error) {
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
func ednToOp(v any, pos int) (history.Op, error) {
	m, ok := v.(ednMap)
	if !ok {
		return history.Op{}, fmt.Errorf("op is %s, want a map", ednKind(v))
	}
	op := history.Op{Index: pos}
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
		case "value":
			op.Value, err = ednCanonical(kv.val)
		}
		if err != nil {
			return history.Op{}, err
		}
	}
	for _, req := range []string{"time", "process", "type", "f"} {
		if !seen[req] {
			return history.Op{}, fmt.Errorf("missing :%s", req)
		}
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
	}
	return nil, fmt.Errorf("unsupported value %s", ednKind(v))
}

// Parsed EDN forms. Vectors and lists are both ednSeq: our histories do
// not tell them apart.
type (
	ednKeyword string
	ednSeq     struct{ items []any }
	ednMap     []ednPair
	ednPair    struct{ key, val any }
)

func ednKind(v any) string {
	switch v.(type) {
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
		return nil, p.errorf("tagged literals and sets (#...) are not supported in histories")
	case c == '\\':
		return nil, p.errorf("character literals are not supported in histories")
	case c == ')' || c == ']' || c == '}':
		return nil, p.errorf("unexpected %q", c)
	case c >= '0' && c <= '9', (c == '-' || c == '+') && p.pos+1 < len(p.data) && p.data[p.pos+1] >= '0' && p.data[p.pos+1] <= '9':
		return p.number()
	}
	switch tok := p.token(); tok {
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return nil, p.errorf("unexpected symbol %q", tok)
	}
}

func (p *ednParser) number() (any, error) {
	tok := p.token()
	switch {
	case strings.HasSuffix(tok, "N"):
		tok = strings.TrimSuffix(tok, "N")
	case strings.HasSuffix(tok, "M"):
		tok = strings.TrimSuffix(tok, "M")
		if !strings.ContainsAny(tok, ".eE") {
			tok += ".0"
		}
	}
	if !strings.ContainsAny(tok, ".eE") {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return nil, p.errorf("bad integer %q (integers must fit in 64 bits)", tok)
		}
		return n, nil
	}
	if strings.ContainsAny(tok, "xXpP_") {
		return nil, p.errorf("bad number %q", tok)
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return nil, p.errorf("bad number %q", tok)
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
