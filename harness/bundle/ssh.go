package bundle

import (
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/ssh"
)

// sshRuntime builds the ssh runtime from the spec's hosts and settings.
func sshRuntime(spec harness.Spec, nodes []string) (harness.Runtime, error) {
	hosts, err := ssh.ParseHosts(spec.Hosts, nodes)
	if err != nil {
		return nil, specErr("%v", err)
	}
	if s := spec.SSH; s != nil && (s.NodePort < 0 || s.NodePort > 65535) {
		return nil, specErr("ssh node_port %d is not a port number (1-65535, or 0 for a free one on each host)", s.NodePort)
	}
	rt := ssh.Runtime{Hosts: hosts, Options: SSHOptions(spec.SSH)}
	if spec.SSH != nil {
		rt.Lease = time.Duration(spec.SSH.Lease)
	}
	return rt, nil
}

// SSHOptions converts the spec's SSH settings for the ssh runtime's
// other commands (clean).
func SSHOptions(s *harness.SSHSpec) ssh.Options {
	if s == nil {
		return ssh.Options{}
	}
	return ssh.Options{Keys: s.Keys, KnownHosts: s.KnownHosts, InsecureIgnoreHostKey: s.InsecureIgnoreHostKey, Dir: s.Dir, Keep: s.Keep, NodePort: s.NodePort}
}
