// Package postgres is the PostgreSQL target: a real PostgreSQL server from
// the machine's own packages, run by the harness as a node that is an
// installed command. Each node is initdb'd into its data directory and
// serves on its loopback port, with its socket in that directory and trust
// authentication for loopback connections only. Its options are parsed
// here, in one place, for the node and for the client.
package postgres

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// The isolation levels a configuration may ask for, as SQL names them in
// lower case with dashes.
const (
	Serializable   = "serializable"
	RepeatableRead = "repeatable-read"
	ReadCommitted  = "read-committed"
)

// Options configure a PostgreSQL target.
type Options struct {
	Isolation     string        // the isolation level of every client transaction
	Bin           string        // the directory of initdb, postgres and pg_isready; "" finds it
	ClientTimeout time.Duration // per-transaction timeout of the client
}

var optionDocs = map[string]string{
	"isolation":      "serializable | repeatable-read | read-committed: the isolation level of every transaction",
	"bin":            "directory holding initdb, postgres and pg_isready (default: $FAULTLINE_PG_BIN, else the newest /usr/lib/postgresql/<v>/bin, else PATH)",
	"client-timeout": "per-transaction client timeout (default 3s); past it a transaction is fail before COMMIT and info during it",
}

// ParseOptions reads the target options. Unknown names and bad values are
// errors that name the option and its values.
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{Isolation: Serializable, ClientTimeout: 3 * time.Second}
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := opts[k]
		switch k {
		case "isolation":
			if !slices.Contains([]string{Serializable, RepeatableRead, ReadCommitted}, v) {
				return o, fmt.Errorf("option isolation=%q: want serializable, repeatable-read or read-committed", v)
			}
			o.Isolation = v
		case "bin":
			o.Bin = v
		case "client-timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("option client-timeout=%q: want a positive duration such as 3s", v)
			}
			o.ClientTimeout = d
		default:
			known := make([]string, 0, len(optionDocs))
			for n := range optionDocs {
				known = append(known, n)
			}
			sort.Strings(known)
			return o, fmt.Errorf("unknown postgres option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return o, nil
}

// binaries are the programs a node needs.
var binaries = []string{"initdb", "postgres", "pg_isready"}

// ErrNotInstalled says PostgreSQL's programs were not found; the message
// says how to install them.
var ErrNotInstalled = errors.New("PostgreSQL is not installed: install Debian's package (apt-get install postgresql), or point --target-opt bin=DIR (or FAULTLINE_PG_BIN) at the directory holding initdb, postgres and pg_isready")

// FindBin returns the directory holding PostgreSQL's server programs: dir
// if set, else $FAULTLINE_PG_BIN, else the newest version under
// /usr/lib/postgresql (Debian installs them there, off PATH), else the
// directory of initdb on PATH.
func FindBin(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("FAULTLINE_PG_BIN")
	}
	if dir != "" {
		if err := hasBinaries(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return version(versions[i]) > version(versions[j]) })
	for _, d := range versions {
		if hasBinaries(d) == nil {
			return d, nil
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if hasBinaries(d) == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func hasBinaries(dir string) error {
	for _, b := range binaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s has no program %s: %w", dir, b, ErrNotInstalled)
		}
	}
	return nil
}

// User is the database superuser every node is initialized with, and the
// system user the node runs as when faultline runs as root (PostgreSQL
// refuses to run as root; Debian's package creates this user).
const User = "postgres"

// Database is the database the clients use.
const Database = "postgres"

// hba allows trusted connections over the node's own socket, from
// loopback, and from the harness's own address ({harness}: loopback on the
// local runtime, the control machine on the ssh runtime), and nothing
// else.
const hba = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all {harness}/32 trust\n"

// NodeCommand declares a PostgreSQL node for the runtimes. The server is
// durable as shipped (fsync and synchronous commit on), small (the
// machines are shared), and logs to its node log.
func NodeCommand(o Options) (*harness.NodeCommand, error) {
	bin, err := FindBin(o.Bin)
	if err != nil {
		return nil, err
	}
	return &harness.NodeCommand{
		Name: "postgres",
		Setup: [][]string{
			// --no-sync: the faults are process kills, which leave the
			// page cache standing, and syncing a fresh cluster costs
			// seconds on a busy machine.
			{filepath.Join(bin, "initdb"), "-D", "{data}", "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync"},
			// $1 is the data directory, passed as a word so that no path
			// needs shell quoting.
			{"/bin/sh", "-c", `printf '%s' "$2" > "$1/pg_hba.conf"`, "sh", "{data}", hba},
		},
		Argv: []string{filepath.Join(bin, "postgres"), "-D", "{data}",
			"-p", "{port}", "-c", "listen_addresses={host}",
			// Relative to the data directory, where postgres runs: the
			// socket stays in the run directory, and a deep run directory
			// cannot push its path past the 107-byte limit of socket names.
			"-c", "unix_socket_directories=.",
			"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
			"-c", "shared_buffers=16MB", "-c", "max_connections=200",
			// Transactions that lock keys in different orders deadlock;
			// find that in 100ms rather than the default second, so they
			// fail fast instead of holding the other clients up.
			"-c", "deadlock_timeout=100ms",
			"-c", "logging_collector=off", "-c", "log_line_prefix=%m [%p] ",
		},
		User:   User,
		Health: harness.Health{Command: []string{filepath.Join(bin, "pg_isready"), "-q", "-h", "{host}", "-p", "{port}", "-U", User, "-d", Database}},
	}, nil
}
