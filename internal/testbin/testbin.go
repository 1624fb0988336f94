// Package testbin builds the real faultline binary for tests that run it as
// a user would: nodes, CLI and all.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tags are the build tags the binary is built with: a test file compiled
// only under a tag (etcd) adds it in an init function, so that the binary
// the tests run has what the tests themselves were built with.
var Tags []string

// Main builds the faultline binary from pkg (a path to cmd/faultline
// relative to the test's package), stores its path in *bin, runs the tests
// and removes the build. It is meant to be called from TestMain.
func Main(m *testing.M, pkg string, bin *string) {
	dir, err := os.MkdirTemp("", "faultline-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "faultline")
	args := []string{"build", "-o", *bin}
	if len(Tags) > 0 {
		args = append(args, "-tags", strings.Join(Tags, ","))
	}
	build := exec.Command("go", append(args, pkg)...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building faultline:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
