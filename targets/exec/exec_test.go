package exec

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"command": "srv --listen {addr}", "health": "tcp", "route": "first", "client-timeout": "5s", "setup": "mkdir -p {data}/x"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.Health.TCP || o.Route != RouteFirst || o.ClientTimeout != 5*time.Second {
		t.Fatalf("%+v", o)
	}
	c, err := NodeCommand(o)
	if err != nil || !c.Shell || c.Argv[0] != "srv --listen {addr}" || c.Setup[0][0] != "mkdir -p {data}/x" {
		t.Fatalf("%+v, %v", c, err)
	}
	for v, want := range map[string]harness.Health{
		"http:/ready":   {HTTPPath: "/ready"},
		"cmd:curl -f x": {Command: []string{"curl -f x"}},
	} {
		o, err := ParseOptions(map[string]string{"health": v})
		if err != nil || o.Health.HTTPPath != want.HTTPPath || strings.Join(o.Health.Command, "") != strings.Join(want.Command, "") {
			t.Errorf("health=%s: %+v, %v", v, o.Health, err)
		}
	}
	if o, _ := ParseOptions(nil); o.Health.HTTPPath != "/health" || o.Route != RouteProcess {
		t.Errorf("defaults %+v: want GET /health, route process", o)
	}
}

func TestParseOptionsNamesTheProblem(t *testing.T) {
	for want, opts := range map[string]map[string]string{
		"health":         {"health": "ping"},
		"route":          {"route": "random"},
		"client-timeout": {"client-timeout": "soon"},
		"unknown exec":   {"comand": "x"},
		"{nodeid}":       {"command": "srv {nodeid}"},
		"cmd:COMMAND":    {"command": "x", "health": "cmd:"},
	} {
		if _, err := ParseOptions(opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one containing %q", opts, err, want)
		}
	}
	if _, err := NodeCommand(Options{}); !errors.Is(err, ErrNoCommand) || !strings.Contains(err.Error(), "--target-opt command=") {
		t.Errorf("no command: %v, want ErrNoCommand showing the flag", err)
	}
}
