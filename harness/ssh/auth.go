package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options are the SSH settings of a run, shared by every host.
type Options struct {
	// Keys are private key files; none means the SSH agent
	// (SSH_AUTH_SOCK), then ~/.ssh/id_ed25519, id_ecdsa and id_rsa.
	Keys []string
	// KnownHosts is the known_hosts file the host keys are checked
	// against; "" means ~/.ssh/known_hosts.
	KnownHosts string
	// InsecureIgnoreHostKey accepts any host key: anyone on the path can
	// then pose as a host.
	InsecureIgnoreHostKey bool
	// Dir is faultline's directory on each host, relative to the login
	// directory unless absolute; "" means .faultline.
	Dir string
	// Keep leaves the run's directories (data and logs) on the hosts.
	Keep bool
	// NodePort is the port every node listens on; 0 lets each host's
	// supervisor pick a free one.
	NodePort int
}

// UsageError is a problem the user must fix in the hosts or the SSH
// settings (a refused key, an unknown host key): the CLI exits 254.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is, or wraps, a UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// clientConfig builds the SSH client settings: the keys to offer and the
// host-key check.
func clientConfig(userName string, o Options) (*gossh.ClientConfig, func(), error) {
	auth, closeAgent, err := authMethods(o.Keys)
	if err != nil {
		return nil, nil, &UsageError{err}
	}
	var check gossh.HostKeyCallback
	if o.InsecureIgnoreHostKey {
		check = gossh.InsecureIgnoreHostKey()
	} else {
		file := o.KnownHosts
		if file == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				closeAgent()
				return nil, nil, &UsageError{fmt.Errorf("finding ~/.ssh/known_hosts: %w (give --known-hosts FILE)", err)}
			}
			file = filepath.Join(home, ".ssh", "known_hosts")
		}
		if check, err = knownhosts.New(file); err != nil {
			closeAgent()
			return nil, nil, &UsageError{fmt.Errorf("reading the known hosts file: %w (add the hosts with ssh-keyscan HOST >> %s, give --known-hosts FILE, or --insecure-ignore-host-key)", err, file)}
		}
	}
	return &gossh.ClientConfig{User: userName, Auth: auth, HostKeyCallback: check}, closeAgent, nil
}

// authMethods offers the given key files, or else the agent's keys, or
// else the default key files.
func authMethods(keys []string) ([]gossh.AuthMethod, func(), error) {
	none := func() {}
	if len(keys) > 0 {
		signers, err := loadKeys(keys, true)
		if err != nil {
			return nil, none, err
		}
		return []gossh.AuthMethod{gossh.PublicKeys(signers...)}, none, nil
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		conn, err := net.Dial("unix", sock)
		if err == nil {
			a := agent.NewClient(conn)
			return []gossh.AuthMethod{gossh.PublicKeysCallback(a.Signers)}, func() { conn.Close() }, nil
		}
	}
	home, _ := os.UserHomeDir()
	var defaults []string
	for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		defaults = append(defaults, filepath.Join(home, ".ssh", n))
	}
	signers, err := loadKeys(defaults, false)
	if err != nil {
		return nil, none, err
	}
	if len(signers) == 0 {
		return nil, none, errors.New("no SSH key: no agent (SSH_AUTH_SOCK) and no ~/.ssh/id_ed25519, id_ecdsa or id_rsa; give --ssh-key FILE")
	}
	return []gossh.AuthMethod{gossh.PublicKeys(signers...)}, none, nil
}

// loadKeys parses private key files; a missing file is an error only when
// the user named it.
func loadKeys(files []string, named bool) ([]gossh.Signer, error) {
	var out []gossh.Signer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if !named && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("reading SSH key %s: %w", f, err)
		}
		s, err := gossh.ParsePrivateKey(b)
		if err != nil {
			var pm *gossh.PassphraseMissingError
			if errors.As(err, &pm) {
				return nil, fmt.Errorf("SSH key %s has a passphrase: add it to an agent (ssh-add %s) and leave --ssh-key out", f, f)
			}
			return nil, fmt.Errorf("SSH key %s: %w", f, err)
		}
		out = append(out, s)
	}
	return out, nil
}
