package txn

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// The figures in the README come from these benchmarks:
//
//	go test -run X -bench 'Check/' -benchtime 1x -cpu 1 ./checkers/txn
//
// Each generates a strict-serializable history with the simulated store
// (transactions of 1 to 4 micro-ops over 10,000 keys from 100 processes,
// 3% of them crashing), which is not timed, then checks it. peak-heap-MiB
// is the most live heap seen while checking, the history included;
// history-MiB is the history alone. cpu-s/op is the CPU time the check
// took (user and system, the heap sampler and the GC included), which on a
// shared machine says more than the wall time ns/op.

var benchHistories sync.Map // config -> history.History

func benchHistory(b *testing.B, cfg simConfig) history.History {
	key := fmt.Sprint(cfg)
	if h, ok := benchHistories.Load(key); ok {
		return h.(history.History)
	}
	h := simulate(cfg)
	benchHistories.Store(key, h)
	return h
}

func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		mode simMode
		w    string
		n    int
	}{
		{"list-append/100k", simSerializable, ListAppend, 100_000},
		{"list-append/1M", simSerializable, ListAppend, 1_000_000},
		{"rw-register/100k", simSerializable, RWRegister, 100_000},
		{"rw-register/1M", simSerializable, RWRegister, 1_000_000},
		{"list-append-read-committed/100k", simRC, ListAppend, 100_000},
		{"list-append-read-committed/1M", simRC, ListAppend, 1_000_000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := simConfig{mode: tc.mode, workload: tc.w, procs: 100, keys: 10_000, txns: tc.n,
				maxLen: 4, reads: 0.5, rmw: 0.1, crashes: 0.03, seed: 7, share: true}
			h := benchHistory(b, cfg)
			defer benchHistories.Delete(fmt.Sprint(cfg))
			runtime.GC()
			base := liveHeap()
			b.ReportAllocs()
			b.ResetTimer()
			var peak uint64
			var r checkers.Result
			var cpu time.Duration
			for range b.N {
				// Each check starts from a collected heap, as the first
				// would, so the peak is one check's.
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				cpu0 := cpuTime()
				stop := sampleHeap(&peak)
				r = Checker{Workload: tc.w}.Check(context.Background(), h, checkers.Options{})
				stop()
				cpu += cpuTime() - cpu0
			}
			b.StopTimer()
			if r.Valid == checkers.Unknown {
				b.Fatalf("unknown: %s", r.Error)
			}
			if tc.mode == simSerializable && r.Valid != checkers.True {
				b.Fatalf("a strict-serializable history was flagged: %v", r.Stats["anomaly_counts"])
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(tc.n)*float64(b.N)/cpu.Seconds(), "txns/cpu-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(base)/(1<<20), "history-MiB")
		})
	}
}

// cpuTime is the CPU time this process has used, user and system: on a
// shared machine it measures the work where wall time measures the
// neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleHeap records the largest heap seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if h := liveHeap(); h > *peak {
				*peak = h
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
