package testbin

import (
	"os"
	"os/exec"
	"testing"

	"github.com/faultline/faultline/targets/postgres"
)

// missing skips t for a missing dependency, or fails it under CI=true,
// where .ci/run must have installed it.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing, and CI=true: .ci/run must install it (%s)", what, install)
	}
	t.Skipf("%s is missing (%s); skipping", what, install)
}

// RequirePostgres returns the directory of PostgreSQL's server programs,
// or skips t (fails it under CI=true) when they are not installed.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	dir, err := postgres.FindBin("")
	if err != nil {
		missing(t, "PostgreSQL", "apt-get install -y postgresql")
	}
	return dir
}

// RequirePython3 skips t (fails it under CI=true) when python3 is not on
// PATH.
func RequirePython3(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		missing(t, "python3", "apt-get install -y python3")
	}
}

// TraversableTempDir returns a fresh temporary directory that every user
// can enter, as a node command run as another user (PostgreSQL's, when
// the tests run as root) needs; t.TempDir's are private to the owner.
func TraversableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/" && len(d) > 1; d = parent(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parent(d string) string {
	for i := len(d) - 1; i > 0; i-- {
		if d[i] == '/' {
			return d[:i]
		}
	}
	return "/"
}
