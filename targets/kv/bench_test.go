package kv

import (
	"net/url"
	"strconv"
	"sync/atomic"
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

// BenchmarkWriteSyncConcurrent measures acknowledged sync writes through a
// 5-node cluster with 10 concurrent clients, as `faultline run` drives
// it: group commit lets the writes that arrive during an fsync share the
// next one, on the primary and on each replica.
func BenchmarkWriteSyncConcurrent(b *testing.B) {
	c := newCluster(b, 5, map[string]string{"replication": "sync"}, nil)
	b.SetParallelism(5) // 5 × GOMAXPROCS (2 here) = 10 clients
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v := next.Add(1)
			if r, code := c.op("n1", OpRequest{Op: OpWrite, Key: "k" + strconv.FormatInt(v%4, 10), Value: v}); !r.OK {
				b.Errorf("write %d: %d %+v", v, code, r)
				return
			}
		}
	})
	b.StopTimer()
	st := c.nodes["n1"].srv.Status()
	b.ReportMetric(float64(st.WALSyncs)/float64(b.N), "fsyncs/write")
}
