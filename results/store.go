package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// The files of a run directory: store/<test>/<timestamp>/.
const (
	SpecFile    = "test.json"
	HistoryFile = "history.jsonl"
	SummaryFile = "results.json"
	ReportFile  = "report.html"
	NodesDir    = "nodes"
	LatestLink  = "latest"
)

// timestampLayout sorts lexically in time order and is safe in file names.
const timestampLayout = "20060102T150405.000Z"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// NewRunDir creates store/<test>/<timestamp>/ with its nodes/ folder.
func NewRunDir(store, test string, now time.Time) (string, error) {
	name := unsafeName.ReplaceAllString(test, "_")
	if name == "" || name == "." || name == ".." {
		return "", fmt.Errorf("test name %q cannot name a directory: use letters, digits, '.', '_' or '-'", test)
	}
	parent := filepath.Join(store, name)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("creating run directory: %w", err)
	}
	// Two runs of one test started in the same millisecond (a matrix with
	// --parallel) must not share a directory: Mkdir fails on an existing one.
	for i := 0; ; i++ {
		dir := filepath.Join(parent, now.UTC().Format(timestampLayout))
		if i > 0 {
			dir += fmt.Sprintf("-%d", i)
		}
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err == nil {
			err = os.Mkdir(filepath.Join(dir, NodesDir), 0o755)
		}
		if err != nil {
			return "", fmt.Errorf("creating run directory: %w", err)
		}
		return dir, nil
	}
}

// MarkLatest points store/<test>/latest and store/latest at dir.
func MarkLatest(dir string) error {
	testDir := filepath.Dir(dir)
	if err := relink(filepath.Join(testDir, LatestLink), filepath.Base(dir)); err != nil {
		return err
	}
	store := filepath.Dir(testDir)
	return relink(filepath.Join(store, LatestLink), filepath.Join(filepath.Base(testDir), filepath.Base(dir)))
}

// relink replaces link atomically, so a reader never sees it missing.
func relink(link, target string) error {
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	return nil
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReadSummary reads dir/results.json.
func ReadSummary(dir string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return s, fmt.Errorf("%s has no %s: the run did not finish checking; re-check it with `faultline check %s`", dir, SummaryFile, dir)
		}
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("reading %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	return s, nil
}
