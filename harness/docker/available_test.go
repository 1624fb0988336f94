package docker

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
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
