package docker

import (
	"os"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/faultline/faultline/harness/docker/internal/procscan"
)

// TestTestcontainersInitSkipsTheProcessScan checks the effect of
// internal/procscan where it matters, in a binary that links
// testcontainers: its bootstrap init found no processes to scan, so the
// session id is a random UUID rather than the SHA-256 (64 hex digits) of
// the parent process's pid and start time, and HOST_PROC is gone again.
func TestTestcontainersInitSkipsTheProcessScan(t *testing.T) {
	if os.Getenv("HOST_PROC") != "" && !procscan.Skipped() {
		t.Fatalf("HOST_PROC=%q came from the environment: run this test without it", os.Getenv("HOST_PROC"))
	}
	if !procscan.Skipped() {
		t.Fatal("procscan did not set HOST_PROC before testcontainers' init")
	}
	if v, ok := os.LookupEnv("HOST_PROC"); ok {
		t.Fatalf("HOST_PROC=%q is still set after init: children would inherit it", v)
	}
	if err := disableRyuk(); err != nil { // before testcontainers reads its configuration
		t.Fatal(err)
	}
	if id := testcontainers.SessionID(); len(id) != 36 {
		t.Fatalf("testcontainers session id %q: want a random UUID, so its init listed the processes", id)
	}
}
