package netfault

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
)

func TestHostRulesValidate(t *testing.T) {
	for _, c := range []struct {
		r    HostRules
		want string
	}{
		{HostRules{}, "self"},
		{HostRules{Self: "10.0.0.1"}, "self"},
		{HostRules{Self: "10.0.0.1:7000", DropFrom: []string{"::1:7000"}}, "drop_from"},
		{HostRules{Self: "10.0.0.1:7000", Loss: map[string]float64{"10.0.0.2:7000": 2}}, "outside [0,1]"},
		{HostRules{Self: "10.0.0.1:7000", Relay: []string{"10.0.0.2:0"}}, "relay"},
		{HostRules{Self: "10.0.0.1:7000", Links: []Link{{From: "x", To: "10.0.0.2"}}}, "link"},
	} {
		err := c.r.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error about %s", c.r, err, c.want)
		}
	}
	if err := (HostRules{Self: "10.0.0.1:7000", DropFrom: []string{"10.0.0.2:7000"}}).Validate(); err != nil {
		t.Errorf("valid rules refused: %v", err)
	}
}

// TestHostTableCutsOnlyNodeTraffic drops one peer's node traffic and checks
// that a connection between the node ports stops while one to another
// port of the same address still opens: on a shared host only the node's
// traffic is touched.
func TestHostTableCutsOnlyNodeTraffic(t *testing.T) {
	inFreshNetns(t, func() {
		if err := loopbackUp(); err != nil {
			t.Errorf("bring lo up: %v", err)
			return
		}
		node, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer node.Close()
		other, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Error(err)
			return
		}
		defer other.Close()
		self := node.Addr().String()
		tb := HostTable{Name: "faultline-test-n1", RelayPort: 1}
		// The peer is 127.0.0.1 too: drop what it sends to the node port.
		if err := tb.Apply(HostRules{Self: self, DropFrom: []string{"127.0.0.1:9"}, Relay: []string{"127.0.0.2:9"}}); err != nil {
			t.Errorf("apply: %v", err)
			return
		}
		names, err := Tables("faultline-")
		if err != nil || len(names) != 1 || names[0] != tb.Name {
			t.Errorf("tables: %v, %v; want [%s]", names, err, tb.Name)
		}
		c, _ := nftables.New()
		in, _ := c.GetRules(&nftables.Table{Name: tb.Name, Family: nftables.TableFamilyIPv4}, &nftables.Chain{Name: "input"})
		if len(in) != 2 {
			t.Errorf("%d input rules, want 2 (dport and sport)", len(in))
		}
		if conn, err := net.DialTimeout("tcp", self, 300*time.Millisecond); err == nil {
			conn.Close()
			t.Errorf("a connection to the cut node port opened")
		}
		conn, err := net.DialTimeout("tcp", other.Addr().String(), 2*time.Second)
		if err != nil {
			t.Errorf("a connection to another port was cut too: %v", err)
		} else {
			conn.Close()
		}
		if err := tb.Remove(); err != nil {
			t.Errorf("remove: %v", err)
		}
		if names, _ := Tables("faultline-"); len(names) != 0 {
			t.Errorf("tables after remove: %v", names)
		}
		if err := tb.Remove(); err != nil {
			t.Errorf("removing twice: %v", err)
		}
		conn, err = net.DialTimeout("tcp", self, 2*time.Second)
		if err != nil {
			t.Errorf("the node port is still cut after remove: %v", err)
		} else {
			conn.Close()
		}
	})
}
