package targets

// The atomic-commit guarantees the test matrix can expect of twopc: the
// checkers' names (checkers.AtomicCommitName and checkers.BankName).
const (
	atomicCommit = "atomic-commit"
	bank         = "bank"
)

// twopcCatalog holds the twopc configurations: a coordinator (the lowest
// node id) and participants (the others; 3 with the default 4 nodes)
// running bank transfers as distributed transactions.
var twopcCatalog = []Config{
	{
		Name: "2pc", System: "twopc", Nodes: 4, Workloads: []string{"bank"},
		Opts:   map[string]string{"protocol": "2pc", "decision": "durable", "heuristic": "off"},
		Doc:    "two-phase commit, durable decision log, presumed abort, participants wait: atomic and conserved; transfers block while the coordinator is down (blocked time measured)",
		Expect: map[string]bool{atomicCommit: true, bank: true},
	},
	{
		Name: "2pc-volatile", System: "twopc", Nodes: 4, Workloads: []string{"bank"},
		Opts:   map[string]string{"protocol": "2pc", "decision": "volatile", "heuristic": "off"},
		Doc:    "two-phase commit whose decision is not made durable: after a coordinator crash between commit messages some participants commit and others presume abort, so atomicity is violated",
		Expect: map[string]bool{atomicCommit: false},
	},
	{
		Name: "2pc-heuristic", System: "twopc", Nodes: 4, Workloads: []string{"bank"},
		Opts:   map[string]string{"protocol": "2pc", "decision": "durable", "heuristic": "abort"},
		Doc:    "two-phase commit whose participants abort on their own after waiting in doubt (heuristic abort): never blocks long; atomicity violated when the guess differs from the decision",
		Expect: map[string]bool{atomicCommit: false},
	},
	{
		Name: "3pc", System: "twopc", Nodes: 4, Workloads: []string{"bank"},
		Opts:   map[string]string{"protocol": "3pc", "decision": "durable", "heuristic": "off"},
		Doc:    "three-phase commit: can-commit, pre-commit, do-commit; participants commit on a timeout after pre-commit and abort before it: no blocking on a coordinator crash alone; under a partition that splits pre-committed from uncommitted participants, atomicity is violated",
		Expect: map[string]bool{atomicCommit: false},
	},
}
