package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness/proctree"
)

// newGuardCmd runs one node that is an installed command under a guard:
// the local runtime starts it so that the node's whole process tree dies
// with the run, even when the harness is SIGKILLed. People do not.
func newGuardCmd() *cobra.Command {
	var o proctree.GuardOptions
	cmd := &cobra.Command{
		Use:   "guard [--user U] [--dir D] -- command [args...]",
		Short: "Run a node command and kill its whole process tree when the harness goes (started by the local runtime)",
		Long: `guard runs the command as its child and adopts every process of its tree
(a child subreaper). It kills the whole tree when the command exits, when its
standard input (a pipe from the harness) closes, or on SIGTERM, SIGINT or
SIGHUP, and exits with the command's status.`,
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code := proctree.Guard(os.Stdin, args, o, cmd.ErrOrStderr())
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.User, "user", "", "run the command as this user (the harness must be root)")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "the command's working directory")
	return cmd
}
