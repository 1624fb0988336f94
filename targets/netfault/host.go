package netfault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strings"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// HostRules is the fault state of one node on a shared host (the SSH
// runtime), where the namespace is the host's own and other programs'
// traffic must pass untouched. Unlike Rules, every rule matches only the
// node's own traffic: TCP between this node's port and the peer's port.
// Applying HostRules replaces the table's previous state atomically; the
// zero HostRules (with Self set) heals everything.
type HostRules struct {
	// Self is this node's endpoint, ip:port, as its peers reach it.
	Self string `json:"self"`
	// DropFrom lists the endpoints (ip:port) of the peers whose node
	// traffic this host drops on arrival: their connections to Self's port,
	// and their answers from their own port.
	DropFrom []string `json:"drop_from,omitempty"`
	// Loss maps a peer's endpoint to the probability in [0,1] that a
	// packet of node traffic sent to it is dropped.
	Loss map[string]float64 `json:"loss,omitempty"`
	// Relay lists the peer endpoints whose TCP connections, opened from
	// this host, are redirected through the relay, so Links can slow them.
	Relay []string `json:"relay,omitempty"`
	// Links is the latency table the relay applies (IPv4 addresses).
	Links []Link `json:"links,omitempty"`
}

// HostTable is one nftables table of a shared host's namespace that
// netfault owns. Its name carries the run's id, so that `faultline clean`
// can tell a dead run's table from a live one's and from anything else.
type HostTable struct {
	Name      string // e.g. faultline-1a2b3c4d-n1
	RelayPort uint16 // where this run's relay listens on the host
}

type endpoint struct {
	ip   [4]byte
	port uint16
}

func parseEndpoint(what, s string) (endpoint, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil || !ap.Addr().Unmap().Is4() || ap.Port() == 0 {
		return endpoint{}, fmt.Errorf("%s %q: want an IPv4 ip:port", what, s)
	}
	return endpoint{ip: ap.Addr().Unmap().As4(), port: ap.Port()}, nil
}

// Validate checks every endpoint, probability and link.
func (r HostRules) Validate() error {
	_, err := r.parse()
	return err
}

type parsedHostRules struct {
	self  endpoint
	drop  []endpoint
	loss  map[endpoint]uint32
	relay []endpoint
}

func (r HostRules) parse() (p parsedHostRules, err error) {
	if p.self, err = parseEndpoint("self", r.Self); err != nil {
		return p, err
	}
	for _, s := range r.DropFrom {
		e, err := parseEndpoint("drop_from", s)
		if err != nil {
			return p, err
		}
		p.drop = append(p.drop, e)
	}
	p.loss = map[endpoint]uint32{}
	for s, pr := range r.Loss {
		e, err := parseEndpoint("loss", s)
		if err != nil {
			return p, err
		}
		if math.IsNaN(pr) || pr < 0 || pr > 1 {
			return p, fmt.Errorf("loss to %s: probability %v outside [0,1]", s, pr)
		}
		if pr > 0 {
			p.loss[e] = uint32(math.Round(pr * lossScale))
		}
	}
	for _, s := range r.Relay {
		e, err := parseEndpoint("relay", s)
		if err != nil {
			return p, err
		}
		p.relay = append(p.relay, e)
	}
	if _, _, _, err := (Rules{Links: r.Links}).validate(); err != nil {
		return p, err
	}
	sort.Slice(p.drop, func(i, j int) bool { return string(p.drop[i].ip[:]) < string(p.drop[j].ip[:]) })
	return p, nil
}

// Apply replaces the table with one that enforces r, in one netlink batch.
func (t HostTable) Apply(r HostRules) error {
	p, err := r.parse()
	if err != nil {
		return err
	}
	if t.Name == "" {
		return errors.New("host table: no name")
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open netlink to nftables: %w", err)
	}
	tb := &nftables.Table{Name: t.Name, Family: nftables.TableFamilyIPv4}
	c.AddTable(tb)
	c.DelTable(tb)
	if len(p.drop) > 0 || len(p.loss) > 0 || len(p.relay) > 0 {
		c.AddTable(tb)
		accept := nftables.ChainPolicyAccept
		in := c.AddChain(&nftables.Chain{
			Name: "input", Table: tb, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
		})
		out := c.AddChain(&nftables.Chain{
			Name: "output", Table: tb, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
		})
		for _, peer := range p.drop {
			// The peer's connections to this node, and the peer's answers
			// on this node's connections to it.
			c.AddRule(&nftables.Rule{Table: tb, Chain: in, Exprs: join(ipMatch(12, peer.ip), portMatch(2, p.self.port), drop())})
			c.AddRule(&nftables.Rule{Table: tb, Chain: in, Exprs: join(ipMatch(12, peer.ip), portMatch(0, peer.port), drop())})
		}
		for peer, pr := range p.loss {
			c.AddRule(&nftables.Rule{Table: tb, Chain: out, Exprs: join(ipMatch(16, peer.ip), portMatch(2, peer.port), chance(pr), drop())})
			c.AddRule(&nftables.Rule{Table: tb, Chain: out, Exprs: join(ipMatch(16, peer.ip), portMatch(0, p.self.port), chance(pr), drop())})
		}
		if len(p.relay) > 0 {
			if t.RelayPort == 0 {
				return errors.New("host table: relay endpoints but no relay port")
			}
			nat := c.AddChain(&nftables.Chain{
				Name: "relay", Table: tb, Type: nftables.ChainTypeNAT,
				Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest,
			})
			c.AddRule(&nftables.Rule{Table: tb, Chain: nat, Exprs: skipRelayed()})
			for _, peer := range p.relay {
				c.AddRule(&nftables.Rule{Table: tb, Chain: nat, Exprs: join(ipMatch(16, peer.ip), portMatch(2, peer.port), redirectTo(t.RelayPort))})
			}
		}
	}
	if err := c.Flush(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("program nftables table %s (the SSH user needs root or CAP_NET_ADMIN on the host): %w", t.Name, err)
		}
		return fmt.Errorf("program nftables table %s: %w", t.Name, err)
	}
	return nil
}

// Remove deletes the table; a table that is not there is no error.
func (t HostTable) Remove() error {
	return DeleteTable(t.Name)
}

// DeleteTable deletes one IPv4 table of the current namespace, if present.
func DeleteTable(name string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open netlink to nftables: %w", err)
	}
	tb := &nftables.Table{Name: name, Family: nftables.TableFamilyIPv4}
	c.AddTable(tb)
	c.DelTable(tb)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("delete nftables table %s: %w", name, err)
	}
	return nil
}

// Tables lists the IPv4 tables of the current namespace whose names start
// with prefix.
func Tables(prefix string) ([]string, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("open netlink to nftables: %w", err)
	}
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	var out []string
	for _, t := range ts {
		if strings.HasPrefix(t.Name, prefix) {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ipMatch compares the IPv4 source (offset 12) or destination (16).
func ipMatch(offset uint32, ip [4]byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip[:]},
	}
}

// portMatch is `meta l4proto tcp` and the TCP source (offset 0) or
// destination (2) port.
func portMatch(offset uint32, port uint16) []expr.Any {
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, port)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	}
}

// chance matches a packet with probability p/lossScale (see lossTo).
func chance(p uint32) []expr.Any {
	limit := make([]byte, 4)
	binary.BigEndian.PutUint32(limit, p)
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: lossScale, Type: 1 /* NFT_NG_RANDOM */},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: limit},
	}
}

func drop() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

func redirectTo(port uint16) []expr.Any {
	b := make([]byte, 2)
	binary.BigEndian.PutUint16(b, port)
	return []expr.Any{&expr.Immediate{Register: 1, Data: b}, &expr.Redir{RegisterProtoMin: 1}}
}

// Relay is a latency relay on a shared host: the connections HostTable
// redirects to its port are forwarded to their destination, each chunk
// held for its link's delay.
type Relay struct {
	ln    net.Listener
	table links
}

// ListenRelay opens a relay on addr (e.g. 0.0.0.0:0).
func ListenRelay(addr string) (*Relay, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay listen on %s: %w", addr, err)
	}
	return &Relay{ln: ln}, nil
}

// Port is the port the relay listens on.
func (r *Relay) Port() uint16 { return uint16(r.ln.Addr().(*net.TCPAddr).Port) }

// SetLinks replaces the latency table; established connections follow it.
func (r *Relay) SetLinks(ls []Link) { r.table.set(ls) }

// Serve forwards connections until ctx ends, then closes the listener and
// waits for its connections to finish.
func (r *Relay) Serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { r.ln.Close() })
	defer stop()
	relay(ctx, r.ln, &r.table)
}
