package harness

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// BenchmarkRecorder measures ops appended to history.jsonl per second.
func BenchmarkRecorder(b *testing.B) {
	r, err := NewRecorder(filepath.Join(b.TempDir(), "history.jsonl"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	op := history.Op{Process: 3, Type: history.OK, F: "read", Key: "17", Value: int64(123456), Node: "n2"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Record(op)
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

type noopClient struct{}

func (noopClient) Invoke(_ context.Context, op history.Op) history.Op {
	op.Type = history.OK
	return op
}
func (noopClient) Close() error { return nil }

type noopWorkload struct{}

func (noopWorkload) Name() string { return "noop" }
func (noopWorkload) Op(r *rand.Rand, key string) history.Op {
	return history.Op{F: "write", Key: key, Value: r.Int64N(1000)}
}
func (noopWorkload) Final(key string) history.Op { return history.Op{F: "read", Key: key} }

// BenchmarkHarnessNoop measures the harness's own ceiling: operations per
// second through workers, generator, recorder and final phase against an
// in-process client that does nothing.
func BenchmarkHarnessNoop(b *testing.B) {
	var ops int
	for i := 0; i < b.N; i++ {
		test := Test{
			Spec: Spec{Name: "noop", Concurrency: 10, Keys: 5, OpsPerKey: 1000, TimeLimit: Duration(time.Second), Seed: 1},
			Client: func(context.Context, Cluster, history.Process) (Client, error) {
				return noopClient{}, nil
			},
			Workload: noopWorkload{},
		}
		out, err := Run(context.Background(), test, RunOptions{Dir: b.TempDir(), Quiesce: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		ops += out.Summary.Ops.OK
	}
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
}
