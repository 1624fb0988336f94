package results

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// HistoryFormat names a history encoding ReadHistory understands.
type HistoryFormat string

// The formats ReadHistory detects.
const (
	FormatJSONL     HistoryFormat = "jsonl"
	FormatEDN       HistoryFormat = "edn"
	FormatJepsenLog HistoryFormat = "jepsen-log"
	FormatJSON      HistoryFormat = "json" // one JSON array of ops, as elle-cli writes
)

// sniffBytes is how much of a file DetectFormat looks at.
const sniffBytes = 64 << 10

// DetectFormat tells the format from the start of the content: a JSON
// object ({"...) is JSONL, an EDN map or vector ({:..., [{...) is EDN, and a
// line from Jepsen's jepsen.util logger is a Jepsen log. Empty content is
// JSONL, the format of a run killed before its first op.
func DetectFormat(head []byte) (HistoryFormat, error) {
	s := bytes.TrimLeft(head, " \t\r\n,")
	for bytes.HasPrefix(s, []byte(";")) { // EDN comments
		if i := bytes.IndexByte(s, '\n'); i >= 0 {
			s = bytes.TrimLeft(s[i:], " \t\r\n,")
		} else {
			s = nil
		}
	}
	if len(s) == 0 {
		return FormatJSONL, nil
	}
	switch s[0] {
	case '{':
		rest := bytes.TrimLeft(s[1:], " \t\r\n,")
		if len(rest) == 0 || rest[0] == '"' || rest[0] == '}' {
			return FormatJSONL, nil
		}
		return FormatEDN, nil
	case '[':
		rest := bytes.TrimLeft(s[1:], " \t\r\n")
		if len(rest) > 0 && rest[0] == '{' {
			if rest = bytes.TrimLeft(rest[1:], " \t\r\n"); len(rest) > 0 && (rest[0] == '"' || rest[0] == '}') {
				return FormatJSON, nil
			}
		}
		return FormatEDN, nil
	case '(', '#':
		return FormatEDN, nil
	}
	if bytes.Contains(head, jepsenMarker) {
		return FormatJepsenLog, nil
	}
	return "", fmt.Errorf("unrecognized history format (starts with %q): want JSON Lines (history.jsonl), Jepsen EDN, or a Jepsen log with jepsen.util op lines", firstLine(head))
}

func firstLine(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return bytes.TrimRight(b, "\r")
}

// ReadHistory reads a history file in any format DetectFormat knows and
// checks its structure. The warnings say what was tolerated (a truncated
// last line). A structural violation is an error naming the op and how to
// fix it. Given a run directory, it reads the directory's history.jsonl.
func ReadHistory(path string) (history.History, []string, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "history.jsonl")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	h, warnings, err := readHistory(f, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, warnings, nil
}

func readHistory(r io.Reader, size int64) (history.History, []string, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, fmt.Errorf("reading history: %w", err)
	}
	format, err := DetectFormat(head)
	if err != nil {
		return nil, nil, err
	}
	var h history.History
	var warnings []string
	switch format {
	case FormatJSONL:
		h, warnings, err = readJSONLSized(br, estimateOps(head, size))
	case FormatJSON:
		h, warnings, err = ReadJSON(br)
	case FormatEDN:
		h, warnings, err = ReadEDN(br)
	case FormatJepsenLog:
		h, err = ReadJepsenLog(br)
	}
	if err != nil {
		return nil, nil, err
	}
	if format == FormatJepsenLog {
		order, err := normalizeOrder(h)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, order...)
	}
	if err := h.Validate(); err != nil {
		return nil, nil, fmt.Errorf("the %s history is not well formed: %w; %s", format, err, validationFix(err))
	}
	return h, warnings, nil
}

// validationFix says what to do about a structural violation. It matches
// the wording of history.Validate; read_test.go fails if that drifts.
func validationFix(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "unknown type"):
		return "each op's type must be invoke, ok, fail or info"
	case strings.Contains(msg, "still open"):
		return "a process is single-threaded: it must complete an op before invoking the next (give concurrent work its own process)"
	case strings.Contains(msg, "never invoked"):
		return "every completion needs an earlier invocation by the same process; the invocation may have been lost when the file was cut"
	case strings.Contains(msg, "does not match"):
		return "a completion must carry the same f as its invocation"
	case strings.Contains(msg, "ended in info"):
		return "after an info completion the process may still be running the op, so further work must use a new process id"
	}
	return "see the history contract in harness/history"
}
