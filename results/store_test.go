package results

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNewRunDirNeverSharesADirectory(t *testing.T) {
	store := t.TempDir()
	now := time.Date(2026, 11, 21, 5, 30, 0, 0, time.UTC)
	a, err := NewRunDir(store, "kv/register", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRunDir(store, "kv/register", now)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two runs started in the same millisecond share %s", a)
	}
	if filepath.Dir(a) != filepath.Join(store, "kv_register") {
		t.Fatalf("run directory %s is not under the sanitized test name", a)
	}
	if err := MarkLatest(b); err != nil {
		t.Fatal(err)
	}
	if target, _ := os.Readlink(filepath.Join(store, LatestLink)); filepath.Join(store, target) != b {
		t.Fatalf("store/latest points at %s, want %s", target, b)
	}
}
