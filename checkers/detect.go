package checkers

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// Models that `faultline check` recognizes in other tools' histories, with
// how to tell them. ForWorkload says which of them faultline has checkers
// for; the others are named, so that a history is refused for what it is
// rather than checked as something it is not.
var modelAliases = map[string]string{
	"cas-register": "register", // Knossos' name; a register with cas
}

// CanonicalModel maps a model name to the workload name faultline uses.
func CanonicalModel(name string) string {
	if m, ok := modelAliases[name]; ok {
		return m
	}
	return name
}

// DetectModel tells the model of a history from its client ops, for a
// history that does not say (a bare file). It returns a model name even
// when faultline has no checker for it (mutex, set, counter, bank, ...),
// so the caller can refuse it by name; an error when the ops fit no model
// it knows.
func DetectModel(h history.History) (string, error) {
	fs := map[string]int{}
	listRead, setRead, intRead, mapValue := false, false, false, false
	added := map[any]bool{}
	repeatedAdd := false
	var mops []string
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		fs[op.F]++
		if op.F == "add" && op.Type == history.Invoke {
			if _, scalar := op.Value.(int64); scalar && added[op.Value] {
				repeatedAdd = true
			}
			if _, scalar := op.Value.(int64); scalar {
				added[op.Value] = true
			}
		}
		switch v := op.Value.(type) {
		case history.Txn:
			for _, m := range v {
				if !slices.Contains(mops, m.F) {
					mops = append(mops, m.F)
				}
			}
		case []int64, []any:
			if op.F == "read" && op.Type == history.OK {
				listRead = true
			}
		case map[string]any:
			mapValue = true
		case int64:
			if op.F == "read" && op.Type == history.OK {
				intRead = true
			}
		case string:
			if op.F == "read" && op.Type == history.OK && strings.HasPrefix(v, "#{") {
				setRead = true // an EDN set, kept as its text
			}
		}
	}
	if len(fs) == 0 {
		return "", fmt.Errorf("the history has no client operations, so there is nothing to check")
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if fs[n] > 0 {
				return true
			}
		}
		return false
	}
	only := func(names ...string) bool {
		for f := range fs {
			if !slices.Contains(names, f) {
				return false
			}
		}
		return true
	}
	switch {
	case has(history.TxnF):
		if !only(history.TxnF) {
			return "", fmt.Errorf("the history mixes transactions with other operations (%s); give --model to say which to check", listFs(fs))
		}
		switch {
		case slices.Contains(mops, history.MopAppend) && slices.Contains(mops, history.MopWrite):
			return "", fmt.Errorf("the transactions both append and write; faultline checks list-append or rw-register transactions, not both in one history")
		case slices.Contains(mops, history.MopWrite):
			return "txn-rw-register", nil
		}
		return "txn-list-append", nil
	case has("acquire", "release") && only("acquire", "release"):
		return "mutex", nil
	case has("transfer"):
		return "bank", nil
	case has("enqueue", "dequeue", "drain"):
		return "queue", nil
	case has("add") && only("add", "read"):
		// A counter adds increments, often the same one again, and reads
		// a number; a set adds distinct elements and reads a collection.
		if (intRead || repeatedAdd) && !listRead && !setRead {
			return "counter", nil
		}
		return "set", nil
	case has("append") && only("append", "read"):
		return "list-append", nil
	case mapValue && only("read"):
		return "bank", nil // reads of every account's balance
	case mapValue && only("read", "write", "cas"):
		return "multi-register", nil
	case only("read", "write", "cas"):
		if listRead {
			return "list-append", nil // reads of lists, no append yet
		}
		return "register", nil
	}
	return "", fmt.Errorf("operations %s fit no model faultline knows; give --model (see 'faultline check --help')", listFs(fs))
}

// Supported reports whether faultline has checkers for a model.
func Supported(model string) bool { return ForWorkload(CanonicalModel(model)) != nil }

// SupportedModels lists the models faultline checks, sorted.
func SupportedModels() []string {
	var out []string
	for _, m := range []string{"register", "list-append", "txn-list-append", "txn-rw-register", "bank"} {
		if Supported(m) {
			out = append(out, m)
		}
	}
	return out
}

// CheckModel verifies that every client op of h is an op of model, so
// that no checker is handed ops it would misread. The error names the
// first op that does not fit and what to do.
func CheckModel(h history.History, model string) error {
	model = CanonicalModel(model)
	var allowed []string
	switch model {
	case "register":
		allowed = []string{"read", "write", "cas"}
	case "list-append":
		allowed = []string{"append", "read"}
	default:
		return validateRegistered(model, h) // the model's own package validates what it reads
	}
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		if !slices.Contains(allowed, op.F) {
			return fmt.Errorf("op %d has f %q, which is not a %s operation (%s); check it with the --model its ops belong to", op.Index, op.F, model, strings.Join(allowed, ", "))
		}
		if err := checkOpValue(model, op); err != nil {
			return fmt.Errorf("op %d: %w", op.Index, err)
		}
	}
	if model == "list-append" {
		if err := parse(h).listAppendInputError(); err != nil {
			return err
		}
	}
	return nil
}

func checkOpValue(model string, op *history.Op) error {
	isList := func(v any) bool {
		switch v.(type) {
		case []int64, []any:
			return true
		}
		return false
	}
	switch {
	case op.F == "cas":
		if l, ok := op.Value.([]int64); ok && len(l) == 2 {
			return nil
		}
		if l, ok := op.Value.([]any); ok && len(l) == 2 {
			return nil
		}
		return fmt.Errorf("cas value %v is not a pair [from to]", op.Value)
	case op.F == "write" && (op.Value == nil || isList(op.Value)):
		return fmt.Errorf("write of %v: a register write needs one value", op.Value)
	case op.F == "append" && (op.Value == nil || isList(op.Value)):
		return fmt.Errorf("append of %v: list-append appends one element", op.Value)
	case op.F == "read" && op.Type == history.OK && model == "register" && isList(op.Value):
		return fmt.Errorf("read returned the list %v, but a register holds one value (is this a list-append history? try --model list-append)", op.Value)
	case op.F == "read" && op.Type == history.OK && model == "list-append" && op.Value != nil && !isList(op.Value):
		return fmt.Errorf("read returned %v, but a list-append read returns the whole list (is this a register history? try --model register)", op.Value)
	}
	return nil
}

func listFs(fs map[string]int) string {
	names := make([]string, 0, len(fs))
	for f := range fs {
		names = append(names, fmt.Sprintf("%q", f))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// WithInitial sets the register's initial value on the checkers that read
// one, leaving the others as they are.
func WithInitial(cs []Checker, initial any) []Checker {
	out := slices.Clone(cs)
	for i, c := range out {
		switch c.(type) {
		case LinearizableChecker:
			out[i] = LinearizableChecker{Initial: initial}
		case SessionGuarantees:
			out[i] = SessionGuarantees{Initial: initial}
		}
	}
	return out
}
