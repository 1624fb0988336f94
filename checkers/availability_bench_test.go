package checkers

import (
	"context"
	"fmt"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// BenchmarkAvailability measures a 10-minute run's worth of history:
// 100,000 client ops under 60 faults (a 10s nemesis interval).
func BenchmarkAvailability(b *testing.B) {
	const ops, faults = 100_000, 60
	const span = int64(600e9) // ns
	var h history.History
	add := func(op history.Op) {
		op.Index = len(h)
		h = append(h, op)
	}
	every := span / ops
	for i := int64(0); i < ops; i++ {
		t := i * every
		if i%(ops/(2*faults)) == 0 {
			verb := "start"
			if (i/(ops/(2*faults)))%2 == 1 {
				verb = "stop"
			}
			f := verb + "-partition"
			add(history.Op{Time: t, Process: history.Nemesis, Type: history.Invoke, F: f})
			add(history.Op{Time: t, Process: history.Nemesis, Type: history.OK, F: f})
		}
		p := history.Process(i % 10)
		add(history.Op{Time: t, Process: p, Type: history.Invoke, F: "read", Key: fmt.Sprint(i % 7)})
		add(history.Op{Time: t + every/2, Process: p, Type: history.OK, F: "read", Key: fmt.Sprint(i % 7), Value: i})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := (Availability{}).Check(context.Background(), h, Options{}); res.Valid != True {
			b.Fatal(res.Error)
		}
	}
}
