package docker

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

func TestRyukIsDisabled(t *testing.T) {
	if err := disableRyuk(); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("TESTCONTAINERS_RYUK_DISABLED"); got != "true" {
		t.Errorf("TESTCONTAINERS_RYUK_DISABLED = %q, want exactly \"true\"", got)
	}
}

func TestAvailableNamesTheEngineItTried(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/faultline-test.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Available(ctx)
	if err == nil {
		t.Fatal("Available found an engine behind a socket that does not exist")
	}
	for _, want := range []string{"no Docker engine answered at unix:///nonexistent/faultline-test.sock", "start dockerd or set DOCKER_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestEngineHostIsWherePortsArePublished(t *testing.T) {
	t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "")
	for _, c := range []struct{ daemon, want string }{
		{"unix:///var/run/docker.sock", "127.0.0.1"},
		{"tcp://10.1.2.3:2376", "10.1.2.3"},
		{"ssh://ci@builder.example:22", "builder.example"},
		{"tcp://[fd00::5]:2375", "fd00::5"},
	} {
		cli, err := client.New(client.WithHost(c.daemon))
		if err != nil {
			t.Fatalf("%s: %v", c.daemon, err)
		}
		if got := engineHost(cli); got != c.want {
			t.Errorf("engine %s: ports reached at %q, want %q", c.daemon, got, c.want)
		}
		cli.Close()
	}
	t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "gateway.example")
	cli, err := client.New(client.WithHost("tcp://10.1.2.3:2376"))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if got := engineHost(cli); got != "gateway.example" {
		t.Errorf("with TESTCONTAINERS_HOST_OVERRIDE, ports reached at %q", got)
	}
}
