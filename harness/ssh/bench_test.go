package ssh

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// BenchmarkCluster5 starts a 5-node kv cluster on five fleet hosts and
// tears it down, reporting each part's wall time: "cold" uploads the
// binary to every host first (a fresh faultline directory each time),
// "warm" finds it there by checksum.
//
//	go test -run X -bench Cluster5 -benchtime 3x ./harness/ssh
func BenchmarkCluster5(b *testing.B) {
	if fleetErr != nil {
		b.Skip(fleetErr.Error())
	}
	f := testFleet
	warmDir := b.TempDir()
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			var start, stop time.Duration
			for range b.N {
				dir := warmDir
				if mode == "cold" {
					dir = b.TempDir()
				}
				rt := Runtime{Hosts: benchHosts(b), Binary: binary,
					Options: Options{Keys: []string{f.Key}, KnownHosts: f.KnownHosts, Dir: dir}}
				spec := harness.ClusterSpec{System: "kv", Nodes: []string{"n1", "n2", "n3", "n4", "n5"}, Dir: b.TempDir()}
				t0 := time.Now()
				c, err := rt.Start(context.Background(), spec)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
				start += t1.Sub(t0)
				stop += time.Since(t1)
			}
			b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms/op")
			b.ReportMetric(float64(stop.Milliseconds())/float64(b.N), "teardown-ms/op")
		})
	}
}

func benchHosts(b *testing.B) map[string]Host {
	list := []string{}
	for i := 1; i <= 5; i++ {
		list = append(list, "n"+string(rune('0'+i))+"=root@"+testFleet.Hosts[i-1].IP)
	}
	h, err := ParseHosts(list, []string{"n1", "n2", "n3", "n4", "n5"})
	if err != nil {
		b.Fatal(err)
	}
	return h
}
