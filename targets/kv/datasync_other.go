//go:build !linux

package kv

import "os"

// datasync makes the data written to f durable; where fdatasync is not
// available it is a full fsync.
func datasync(f *os.File, _ int) error { return f.Sync() }
