package harness

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var testVars = NodeVars{ID: "n1", Index: 1, Addr: "127.0.0.1:7001", Data: "/tmp/run dir/data/n1", Run: "/tmp/run dir",
	Peers: map[string]string{"n3": "127.0.0.1:7303", "n2": "127.0.0.1:7202"}}

func TestExpandPlaceholders(t *testing.T) {
	got, err := testVars.Expand("{id}#{index} {addr} {host}:{port} {peers} {data} {run} {{x}", nil)
	want := "n1#1 127.0.0.1:7001 127.0.0.1:7001 n2=127.0.0.1:7202,n3=127.0.0.1:7303 /tmp/run dir/data/n1 /tmp/run dir {x}"
	if err != nil || got != want {
		t.Fatalf("Expand = %q, %v\nwant     %q", got, err, want)
	}
	for _, bad := range []string{"{nope}", "{id", "x {ID}"} {
		if _, err := testVars.Expand(bad, nil); err == nil || !strings.Contains(err.Error(), "{id}") {
			t.Errorf("Expand(%q): error %v, want one listing the placeholders", bad, err)
		}
	}
}

func TestShellLineQuotesEveryValue(t *testing.T) {
	c := &NodeCommand{Name: "x", Argv: []string{"printf '%s|' {data} {id}"}, Shell: true}
	argv, err := c.CommandLine(testVars)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The data directory holds a space, yet reaches the command as one word.
	if string(out) != "/tmp/run dir/data/n1|n1|" {
		t.Fatalf("the shell saw %q", out)
	}
	for _, s := range []string{"a'b", "$(touch x)", "", "a b", `"\`} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("ShellQuote(%q) came back from sh as %q (%v)", s, out, err)
		}
	}
}

func TestNodeCommandValidate(t *testing.T) {
	ok := NodeCommand{Name: "x", Argv: []string{"x", "{data}"}, Setup: [][]string{{"init", "{data}"}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]NodeCommand{
		"no command line":    {Name: "x"},
		"one line":           {Name: "x", Argv: []string{"a", "b"}, Shell: true},
		"unknown":            {Name: "x", Argv: []string{"x"}, Setup: [][]string{{"{dta}"}}},
		"choose one":         {Name: "x", Argv: []string{"x"}, Health: Health{TCP: true, HTTPPath: "/h"}},
		"must start with /":  {Name: "x", Argv: []string{"x"}, Health: Health{HTTPPath: "h"}},
		"a shell command is": {Name: "x", Argv: []string{"x"}, Shell: true, Health: Health{Command: []string{"a", "b"}}},
	} {
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%+v: error %v, want one saying %q", c, err, name)
		}
	}
}

func TestLineExpandsArgvWordByWord(t *testing.T) {
	c := &NodeCommand{Name: "x", Argv: []string{"srv", "--data", "{data}"}}
	got, err := c.CommandLine(testVars)
	if err != nil || !slices.Equal(got, []string{"srv", "--data", "/tmp/run dir/data/n1"}) {
		t.Fatalf("%q, %v", got, err)
	}
}

// FuzzExpand: any template either expands or is refused, without panic,
// and a template with no brace is its own expansion.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"{id}", "{{", "{", "}", "a{peers}b", "{data}{run}{port}", "{{id}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := testVars.Expand(s, ShellQuote)
		if !strings.ContainsRune(s, '{') && (err != nil || got != s) {
			t.Fatalf("Expand(%q) = %q, %v; want it unchanged", s, got, err)
		}
	})
}
