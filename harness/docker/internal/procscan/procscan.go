// Package procscan keeps testcontainers-go's package initialisation from
// listing every process on the machine.
//
// testcontainers-go computes a session id in an init function of its
// internal bootstrap package: it lists every process through gopsutil
// (several files read per process) to find its parent's start time. Go runs
// the init functions of every linked package, so every faultline command,
// `check` and `node` included, paid for that scan, in proportion to the
// number of processes on the machine, although only `run --runtime docker`
// talks to an engine. faultline has no use for that session id: it disables
// the reaper that groups containers by it, and removes what it started by
// its own labels.
//
// gopsutil reads the proc root from HOST_PROC when it is called. This
// package, imported by the Docker runtime, points HOST_PROC at a path that
// does not exist, so the scan fails at once and testcontainers falls back
// to a random session id; the Docker runtime's own init, which runs after
// every package it imports, calls Restore. The order is the language's:
// since Go 1.21 packages initialise in import-path order among those whose
// imports are ready, and github.com/faultline/... sorts before
// github.com/testcontainers/..., whose imports include this package's only
// import, os.
package procscan

import "os"

// envName is the variable gopsutil reads for the proc root.
const envName = "HOST_PROC"

// nowhere is a proc root that does not exist: listing it fails at once.
const nowhere = "/nonexistent/faultline-skips-the-testcontainers-process-scan"

// skipped reports whether this package set HOST_PROC; restored, whether
// Restore has removed it again.
var skipped, restored bool

func init() {
	if _, ok := os.LookupEnv(envName); ok {
		return // the user's own proc root: leave it, and the scan, alone
	}
	skipped = os.Setenv(envName, nowhere) == nil
}

// Skipped reports whether this package kept the scan from running.
func Skipped() bool { return skipped }

// Restore removes the HOST_PROC this package set, so nothing faultline runs
// later (nor any child process) sees it. Later calls do nothing.
func Restore() {
	if skipped && !restored {
		restored = true
		_ = os.Unsetenv(envName)
	}
}
