package checkers

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// bench1M is the input: one million list-append operations
// (2,000,000 events), 100 keys, 50 processes, half appends, a tenth of
// the reads stale. Built once, it is shared by the benchmarks.
var bench1M = sync.OnceValue(func() history.History {
	return genListAppend(genConfig{Ops: 1_000_000, Keys: 100, Processes: 50, Appends: 0.5, Stale: 0.1, Sessions: true, Seed: 42})
})

// heapPeak samples the live heap until stopped and returns its maximum.
// Under -cpu 1 the sampler runs only when the scheduler preempts the
// checker (every 10 ms or so), which is fine for a peak that lasts as long
// as the check.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return max(peak, read())
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchChecker(b *testing.B, c Checker) {
	h := bench1M()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		// Start each check from a collected heap, so that one check's
		// garbage does not count in the next one's peak.
		b.StopTimer()
		runtime.GC()
		b.StartTimer()
		stop := heapPeak()
		cpu0 := cpuTime()
		r := c.Check(b.Context(), h, Options{})
		cpu += cpuTime() - cpu0
		peak = max(peak, stop())
		if r.Valid != True && c.Name() == "session" {
			b.Fatalf("the generated history keeps the session guarantees: %v", r.Anomalies)
		}
	}
	b.StopTimer()
	// On a shared machine wall time depends on the neighbours; the CPU
	// time this process spent (all threads, the collector's included) is
	// the steadier figure.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(base.HeapAlloc)/(1<<20), "history-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak-min(peak, base.HeapAlloc))/(1<<20), "checker-peak-MiB")
}

// BenchmarkSession1M is the target: under 2 s and 1 GiB on one
// core. Run it with
//
//	go test -run x -bench Session1M -benchmem -cpu 1 ./checkers
func BenchmarkSession1M(b *testing.B) { benchChecker(b, SessionGuarantees{}) }

// BenchmarkListAppend1M measures the Elle-style cycle checks on the same
// history, for comparison.
func BenchmarkListAppend1M(b *testing.B) { benchChecker(b, ListAppend{}) }

// BenchmarkConvergence1M measures the convergence checks on the same history.
func BenchmarkConvergence1M(b *testing.B) { benchChecker(b, Convergence{}) }
