//go:build !etcd

package main

import (
	"strings"
	"testing"
)

// Without the build tag the etcd targets are listed but refused, with the
// command that builds them in.
func TestEtcdWithoutTheBuildTagSaysHowToBuildIt(t *testing.T) {
	t.Parallel()
	out, code := faultline(t, "run", "--store", t.TempDir(), "--target", "etcd")
	if code != 254 || !strings.Contains(out, "-tags etcd") {
		t.Fatalf("exit %d, want 254 naming the build tag:\n%s", code, out)
	}
}
