//go:build etcd

package etcd

import "testing"

// etcd derives member and cluster ids from --initial-cluster, so every
// member must compute the same string from its own view: its shared
// address and its peers'.
func TestEtcdInitialClusterIsTheSameOnEveryMember(t *testing.T) {
	shared := map[string]string{"n1": "127.0.0.1:1001", "n2": "127.0.0.1:1002", "n3": "127.0.0.1:1003"}
	var first string
	for self, addr := range shared {
		peers := map[string]string{}
		for id, a := range shared {
			if id != self {
				peers[id] = a
			}
		}
		got := initialCluster(self, addr, peers)
		if first == "" {
			first = got
		}
		if got != first {
			t.Fatalf("%s computes %q, another member %q", self, got, first)
		}
	}
	if first != "n1=http://127.0.0.1:1001,n2=http://127.0.0.1:1002,n3=http://127.0.0.1:1003" {
		t.Fatalf("initial cluster %q", first)
	}
}
