package procscan

import (
	"os"
	"testing"
)

func TestRestoreRemovesOnlyWhatInitSet(t *testing.T) {
	// Nothing in this test binary imports testcontainers, so whatever init
	// did is still in force.
	before, had := os.LookupEnv(envName)
	if Skipped() && before != nowhere {
		t.Fatalf("Skipped, yet HOST_PROC=%q", before)
	}
	Restore()
	after, has := os.LookupEnv(envName)
	switch {
	case Skipped() && has:
		t.Fatalf("after Restore HOST_PROC=%q, want it unset", after)
	case !Skipped() && (has != had || after != before):
		t.Fatalf("Restore changed the user's HOST_PROC %q to %q", before, after)
	}
	t.Setenv(envName, "/proc")
	Restore() // a second call must not remove a value someone else set
	if v := os.Getenv(envName); v != "/proc" {
		t.Fatalf("a second Restore removed HOST_PROC=%q", v)
	}
}
