package ssh

import (
	"encoding/json"
	"fmt"

	"github.com/faultline/faultline/targets/netfault"
)

// The harness and a node's supervisor talk over the SSH session's stdin
// and stdout, one JSON object a line. The harness sends requests; the
// supervisor answers each one that has an ID, in order. Every line the
// supervisor reads renews the harness's lease.

// Request ops.
const (
	opRenew  = "renew"  // renew the lease; no answer
	opStart  = "start"  // start the node: Args is its command line
	opKill   = "kill"   // SIGKILL the node's process group and reap it
	opPause  = "pause"  // SIGSTOP the group
	opResume = "resume" // SIGCONT the group
	opRules  = "rules"  // replace the host's fault rules with Rules
	opStatus = "status" // report the node's pid and state
	opStop   = "stop"   // tear everything down (Keep: leave the run directory) and exit

	// For nodes that are an installed command (harness.NodeCommand):
	opWhich = "which" // check that every program in Args exists on the host
	opOwn   = "own"   // give the data directory to User, who must be able to reach it
	opSetup = "setup" // run Args to completion under a guard (Env, User), output to the node's log
	opProbe = "probe" // run the health command Args (Env) once
)

// request is one line from the harness.
type request struct {
	ID    uint64              `json:"id,omitempty"`
	Op    string              `json:"op"`
	Args  []string            `json:"args,omitempty"`
	Rules *netfault.HostRules `json:"rules,omitempty"`
	Keep  bool                `json:"keep,omitempty"`
	// Env is added to the environment of start, setup and probe.
	Env []string `json:"env,omitempty"`
	// Guard (start) runs Args under `faultline guard`, which owns the
	// node's whole process tree; User (start, setup, own) runs it as that
	// user.
	Guard bool   `json:"guard,omitempty"`
	User  string `json:"user,omitempty"`
}

// reply is one line from the supervisor. The first line it writes, with
// ID 0, is its hello: where it put the run and which ports it chose.
type reply struct {
	ID        uint64 `json:"id"`
	Error     string `json:"error,omitempty"`
	Pid       int    `json:"pid,omitempty"`        // the node's pid (and process group); 0 when not running
	Paused    bool   `json:"paused,omitempty"`     // the node was stopped with SIGSTOP
	Port      int    `json:"port,omitempty"`       // hello: the node's port
	RelayPort int    `json:"relay_port,omitempty"` // hello: the latency relay's port
	Dir       string `json:"dir,omitempty"`        // hello: the node's run directory
	Super     int    `json:"supervisor,omitempty"` // hello: the supervisor's own pid
	Root      bool   `json:"root,omitempty"`       // hello: the supervisor runs as root
}

func (r reply) err() error {
	if r.Error == "" {
		return nil
	}
	return fmt.Errorf("%s", r.Error)
}

func encodeLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
