// Command faultline runs Jepsen-style consistency tests: concurrent clients
// drive a replicated system while a nemesis injects faults, every operation
// is recorded, and checkers decide which guarantees held.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes, as Jepsen's.
const (
	exitValid   = 0   // every checker valid
	exitInvalid = 1   // some checker found a violation
	exitUnknown = 2   // a checker could not decide, or the run was interrupted
	exitUsage   = 254 // bad arguments or input
	exitFailed  = 255 // the harness itself failed
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as bad arguments or input.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	err := root.ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	if err == nil {
		return exitValid
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "faultline:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "faultline:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailed
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "faultline",
		Short: "Jepsen-style consistency tests for replicated systems",
		Long: `faultline runs concurrent clients against a replicated system while a
nemesis injects partitions, crashes, pauses and clock faults. Every operation
is recorded to history.jsonl; checkers then decide which guarantees held
(linearizability through porcupine, session guarantees, convergence).

Start with:  faultline run            (5-node primary-backup KV, local processes)
Then try:    faultline run --target kv-async
List what is bundled:  faultline list

Exit codes: 0 valid, 1 a violation was found, 2 unknown (a checker could not
decide, or the run was interrupted), 254 bad arguments or input, 255 the
harness itself failed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("faultline {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErr("%v\nSee '%s --help'.", err, cmd.CommandPath())
	})
	root.AddCommand(newRunCmd(), newCheckCmd(), newListCmd(), newServeCmd(), newMatrixCmd(), newCleanCmd(), newNodeCmd(), newNetfaultCmd(), newGuardCmd(), newSSHHostCmd())
	return root
}
