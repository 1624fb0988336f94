// Command porcupinecheck is the baseline for faultline's start-up figures:
// the smallest program that checks a Jepsen etcd log (porcupine's
// test_data/jepsen/etcd_*.log) with porcupine alone. It parses the log,
// checks it against a register with cas, and exits 0 if the history is
// linearizable, 1 if not, 2 if porcupine timed out and 254 on bad input.
// scripts/startup.sh times it beside `faultline check` on the same logs:
//
//	go run ./scripts/porcupinecheck etcd_000.log
//
// Semantics, as Jepsen's: an :invoke opens an operation of its process; an
// :ok closes it with that result; a :fail of a cas closes it as a cas that
// did not apply; a :fail of a read (a timeout) and an :info close it with an
// unknown result, and an :info'd or never-closed operation may take effect
// any time after its call, so it returns at the end of the history.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// nilValue is the register's value before the first write (Jepsen's nil).
const nilValue = math.MinInt64

type input struct {
	f        string // read, write or cas
	arg, to  int64  // write: arg; cas: from arg to to
	callLine int
}

type output struct {
	unknown bool  // timed out or :info: any result is possible
	ok      bool  // cas: it applied
	value   int64 // read: the value, nilValue for nil
}

var model = porcupine.Model{
	Init: func() any { return int64(nilValue) },
	Step: func(state, in, out any) (bool, any) {
		st, i, o := state.(int64), in.(input), out.(output)
		switch i.f {
		case "read":
			return o.unknown || o.value == st, st
		case "write":
			return true, i.arg
		default: // cas
			applies := st == i.arg
			next := st
			if applies {
				next = i.to
			}
			return o.unknown || o.ok == applies, next
		}
	},
	DescribeOperation: func(in, out any) string {
		return fmt.Sprintf("%v -> %v", in, out)
	},
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: porcupinecheck etcd_NNN.log...")
		os.Exit(254)
	}
	code := 0
	for _, path := range os.Args[1:] {
		ops, err := parse(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "porcupinecheck:", err)
			os.Exit(254)
		}
		switch porcupine.CheckOperationsTimeout(model, ops, 2*time.Minute) {
		case porcupine.Ok:
			fmt.Println(path, "linearizable")
		case porcupine.Illegal:
			fmt.Println(path, "not linearizable")
			code = 1
		default:
			fmt.Println(path, "unknown (timed out)")
			if code == 0 {
				code = 2
			}
		}
	}
	os.Exit(code)
}

// parse reads the lines `INFO  jepsen.util - PROCESS\t:TYPE\t:F\tVALUE`
// and pairs each invocation with its completion; line numbers are the
// clock.
func parse(path string) ([]porcupine.Operation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []porcupine.Operation
	open := map[int]int{} // process -> index in ops of its open operation
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 || fields[1] != "jepsen.util" {
			continue
		}
		proc, err := strconv.Atoi(fields[3])
		if err != nil {
			continue // a nemesis line
		}
		typ, fn := fields[4], strings.TrimPrefix(fields[5], ":")
		val := strings.Join(fields[6:], " ")
		if typ == ":invoke" {
			in := input{f: fn, callLine: line}
			switch fn {
			case "write":
				if in.arg, err = strconv.ParseInt(val, 10, 64); err != nil {
					return nil, fmt.Errorf("%s:%d: write of %q: %w", path, line, val, err)
				}
			case "cas":
				var a, b int64
				if _, err := fmt.Sscanf(val, "[%d %d]", &a, &b); err != nil {
					return nil, fmt.Errorf("%s:%d: cas of %q: %w", path, line, val, err)
				}
				in.arg, in.to = a, b
			case "read":
			default:
				return nil, fmt.Errorf("%s:%d: unknown operation %q", path, line, fn)
			}
			open[proc] = len(ops)
			ops = append(ops, porcupine.Operation{ClientId: proc, Input: in, Call: int64(line), Return: math.MaxInt64, Output: output{unknown: true}})
			continue
		}
		i, ok := open[proc]
		if !ok {
			return nil, fmt.Errorf("%s:%d: process %d completes an operation it never invoked", path, line, proc)
		}
		delete(open, proc)
		op := &ops[i]
		switch {
		case typ == ":ok" && fn == "read":
			v := int64(nilValue)
			if val != "nil" {
				if v, err = strconv.ParseInt(val, 10, 64); err != nil {
					return nil, fmt.Errorf("%s:%d: read of %q: %w", path, line, val, err)
				}
			}
			op.Output, op.Return = output{value: v}, int64(line)
		case typ == ":ok":
			op.Output, op.Return = output{ok: true}, int64(line)
		case typ == ":fail" && fn == "cas":
			op.Output, op.Return = output{ok: false}, int64(line)
		case typ == ":fail":
			// A timed-out read took effect nowhere that matters: any
			// value is fine, and it cannot be later than its return.
			op.Return = int64(line)
		default: // :info: may take effect at any later time
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ops, nil
}
