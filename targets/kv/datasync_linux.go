package kv

import (
	"errors"
	"os"
	"syscall"
)

// datasync makes the data written to f durable, without the metadata a
// read of it does not need (fdatasync).
func datasync(_ *os.File, fd int) error {
	for {
		// The Go runtime signals threads to preempt them: retry.
		if err := syscall.Fdatasync(fd); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
