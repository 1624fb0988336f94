package ssh

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// rulesCluster is a cluster of three nodes with addresses and no hosts.
func rulesCluster() *Cluster {
	c := &Cluster{order: []string{"n1", "n2", "n3"}, nodes: map[string]*node{}, links: map[[2]string]harness.LinkFault{}}
	for i, id := range c.order {
		ip := "10.0.0." + string(rune('1'+i))
		c.nodes[id] = &node{id: id, ip: ip, addr: ip + ":7000"}
	}
	return c
}

func TestRulesFollowTheGrudgeAndLinks(t *testing.T) {
	c := rulesCluster()
	// A one-way cut: n1 drops n2; nobody drops n1.
	c.grudge = harness.Grudge{"n1": {"n2"}, "n3": {"n1", "n2"}}
	c.links[[2]string{"n2", "n3"}] = harness.LinkFault{Loss: 0.25}
	c.links[[2]string{"n3", "n1"}] = harness.LinkFault{Latency: 50 * time.Millisecond, Jitter: 5 * time.Millisecond}
	r := c.rules()
	if got := r["n1"].DropFrom; !slices.Equal(got, []string{"10.0.0.2:7000"}) {
		t.Errorf("n1 drops %v, want n2's endpoint", got)
	}
	if got := r["n2"].DropFrom; len(got) != 0 {
		t.Errorf("n2 drops %v in a one-way cut against it", got)
	}
	if got := r["n3"].DropFrom; !slices.Equal(got, []string{"10.0.0.1:7000", "10.0.0.2:7000"}) {
		t.Errorf("n3 drops %v", got)
	}
	if got := r["n2"].Loss; len(got) != 1 || got["10.0.0.3:7000"] != 0.25 {
		t.Errorf("n2's loss %v, want 0.25 towards n3 (the sender's side)", got)
	}
	if len(r["n3"].Loss) != 0 {
		t.Errorf("loss set on the receiver's side too: %v", r["n3"].Loss)
	}
	for id, hr := range r {
		if hr.Self != c.nodes[id].addr {
			t.Errorf("%s's rules name self %q", id, hr.Self)
		}
		if len(hr.Relay) != 2 || slices.Contains(hr.Relay, hr.Self) {
			t.Errorf("%s relays %v, want its two peers", id, hr.Relay)
		}
		// Every host gets the whole latency table.
		if len(hr.Links) != 1 || hr.Links[0].From != "10.0.0.3" || hr.Links[0].To != "10.0.0.1" || hr.Links[0].Latency != 50*time.Millisecond {
			t.Errorf("%s's latency table: %+v", id, hr.Links)
		}
		if err := hr.Validate(); err != nil {
			t.Errorf("%s's rules do not validate: %v", id, err)
		}
	}
	c.grudge = nil
	clear(c.links)
	for id, hr := range c.rules() {
		if len(hr.DropFrom)+len(hr.Loss)+len(hr.Links) != 0 {
			t.Errorf("%s keeps faults after a heal: %+v", id, hr)
		}
	}
}
