package kv

import (
	"net/url"
	"testing"
)

// benchWrites measures acknowledged writes per second through a 3-node
// cluster, one client, keep-alive connections.
func benchWrites(b *testing.B, opts map[string]string) {
	c := newCluster(b, 3, opts, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.write("n1", "x", int64(i))
	}
}

func BenchmarkWriteSync(b *testing.B) {
	benchWrites(b, map[string]string{"replication": "sync"})
}

func BenchmarkWriteAsync(b *testing.B) {
	benchWrites(b, map[string]string{"replication": "async"})
}

func BenchmarkReadReplica(b *testing.B) {
	c := newCluster(b, 3, map[string]string{"replication": "sync"}, nil)
	c.write("n1", "x", 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, _ := c.read("n2", "x", url.Values{}); !r.OK {
			b.Fatal(r)
		}
	}
}
