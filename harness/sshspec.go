package harness

// SSHSpec holds the SSH settings of a test on the ssh runtime (Spec.SSH).
// The hosts themselves are Spec.Hosts.
type SSHSpec struct {
	// Keys are private key files to offer; none means the SSH agent, then
	// ~/.ssh/id_ed25519, id_ecdsa and id_rsa.
	Keys []string `json:"keys,omitempty" yaml:"keys"`
	// KnownHosts is the known_hosts file to check host keys against
	// (default ~/.ssh/known_hosts).
	KnownHosts string `json:"known_hosts,omitempty" yaml:"known_hosts"`
	// InsecureIgnoreHostKey accepts any host key.
	InsecureIgnoreHostKey bool `json:"insecure_ignore_host_key,omitempty" yaml:"insecure_ignore_host_key"`
	// Dir is faultline's directory on the hosts (default .faultline in
	// the login directory).
	Dir string `json:"dir,omitempty" yaml:"dir"`
	// Keep leaves each run's directories (data, logs) on the hosts.
	Keep bool `json:"keep,omitempty" yaml:"keep"`
	// NodePort is the port the nodes listen on (default: a free one on
	// each host, below the ephemeral range).
	NodePort int `json:"node_port,omitempty" yaml:"node_port"`
	// Lease is how long each host's supervisor keeps its node running
	// without hearing from the harness (default 10s).
	Lease Duration `json:"lease,omitempty" yaml:"lease"`
}
