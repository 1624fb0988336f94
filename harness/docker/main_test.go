package docker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// engineErr is why the Docker tests skip; nil when an engine answers.
var engineErr error

// standin is the static stand-in faultline binary the runtime tests run in
// their containers (testdata/standin).
var standin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	engineErr = Available(ctx)
	tmp, err := os.MkdirTemp("", "faultline-docker-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if engineErr == nil {
		standin = filepath.Join(tmp, "faultline")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", standin, "./testdata/standin")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build the stand-in node binary: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// needEngine skips t when no Docker engine answers, saying why.
func needEngine(t *testing.T) {
	t.Helper()
	if engineErr != nil {
		t.Skip(engineErr.Error())
	}
}
