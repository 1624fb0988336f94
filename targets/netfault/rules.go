// Package netfault injects network faults from inside a network namespace:
// packet drops for partitions and random loss on chosen links, programmed
// through nftables over netlink. It runs inside the faultline binary itself
// (`faultline netfault serve`), in a container that owns a node's network
// namespace, so the Docker runtime needs nothing but the engine API and the
// node's own image: no nsenter on the engine's host, no helper image, no
// iptables binary in a FROM scratch image.
package netfault

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// tableName is the nftables table netfault owns; nothing else in the
// namespace is touched, so Docker's own rules keep working.
const tableName = "faultline"

// lossScale is the resolution of Loss: probabilities are rounded to 1/lossScale.
const lossScale = 1_000_000

// Rules is the whole fault state of one network namespace. Applying Rules
// replaces the previous state atomically; the zero Rules heals everything.
type Rules struct {
	// DropFrom lists IPv4 source addresses whose packets this namespace
	// drops on arrival: the namespace's half of a partition grudge.
	DropFrom []string `json:"drop_from,omitempty"`
	// Loss maps an IPv4 destination address to the probability in [0,1]
	// that a packet sent to it is dropped.
	Loss map[string]float64 `json:"loss,omitempty"`
	// Relay lists IPv4 addresses whose TCP connections, opened from this
	// namespace, go through the relay on RelayPort. Only those can be
	// slowed by Links; the runtime lists every peer from the start, so
	// connections opened before a fault are slowed too.
	Relay []string `json:"relay,omitempty"`
	// Links is the latency of the bytes between two addresses, for the
	// connections that pass this namespace's relay (both directions of
	// each: a reply is slowed by its own link).
	Links []Link `json:"links,omitempty"`
}

// validate parses every address and probability, so a bad request fails
// before any rule changes.
func (r Rules) validate() (drop []netip.Addr, loss map[netip.Addr]uint32, relay []netip.Addr, err error) {
	for _, s := range r.DropFrom {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, nil, nil, fmt.Errorf("drop_from %q: not an IPv4 address", s)
		}
		drop = append(drop, a)
	}
	loss = make(map[netip.Addr]uint32, len(r.Loss))
	for s, p := range r.Loss {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, nil, nil, fmt.Errorf("loss %q: not an IPv4 address", s)
		}
		if math.IsNaN(p) || p < 0 || p > 1 {
			return nil, nil, nil, fmt.Errorf("loss to %s: probability %v outside [0,1]", s, p)
		}
		if p > 0 {
			loss[a] = uint32(math.Round(p * lossScale))
		}
	}
	for _, s := range r.Relay {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, nil, nil, fmt.Errorf("relay %q: not an IPv4 address", s)
		}
		relay = append(relay, a)
	}
	for _, l := range r.Links {
		for _, s := range []string{l.From, l.To} {
			if a, err := netip.ParseAddr(s); err != nil || !a.Is4() {
				return nil, nil, nil, fmt.Errorf("link %s->%s: %q is not an IPv4 address", l.From, l.To, s)
			}
		}
		if l.Latency < 0 || l.Jitter < 0 {
			return nil, nil, nil, fmt.Errorf("link %s->%s: negative latency or jitter", l.From, l.To)
		}
	}
	sort.Slice(drop, func(i, j int) bool { return drop[i].Less(drop[j]) })
	return drop, loss, relay, nil
}

// Apply replaces the namespace's netfault table with one that enforces r, in
// a single netlink batch so no packet sees a half-applied state.
func Apply(r Rules) error {
	drop, loss, relay, err := r.validate()
	if err != nil {
		return err
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("open netlink to nftables: %w", err)
	}
	t := &nftables.Table{Name: tableName, Family: nftables.TableFamilyIPv4}
	// Add-then-delete removes any previous table without failing when there
	// is none; the whole batch is one transaction.
	c.AddTable(t)
	c.DelTable(t)
	if len(drop) > 0 || len(loss) > 0 || len(relay) > 0 {
		c.AddTable(t)
		accept := nftables.ChainPolicyAccept
		in := c.AddChain(&nftables.Chain{
			Name: "input", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
		})
		out := c.AddChain(&nftables.Chain{
			Name: "output", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter, Policy: &accept,
		})
		for _, a := range drop {
			c.AddRule(&nftables.Rule{Table: t, Chain: in, Exprs: dropFrom(a)})
		}
		for a, p := range loss {
			c.AddRule(&nftables.Rule{Table: t, Chain: out, Exprs: lossTo(a, p)})
		}
		if len(relay) > 0 {
			nat := c.AddChain(&nftables.Chain{
				Name: "relay", Table: t, Type: nftables.ChainTypeNAT,
				Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest,
			})
			c.AddRule(&nftables.Rule{Table: t, Chain: nat, Exprs: skipRelayed()})
			for _, a := range relay {
				c.AddRule(&nftables.Rule{Table: t, Chain: nat, Exprs: redirectTCP(a)})
			}
		}
	}
	if err := c.Flush(); err != nil {
		if errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("program nftables (the container needs CAP_NET_ADMIN): %w", err)
		}
		return fmt.Errorf("program nftables: %w", err)
	}
	return nil
}

// dropFrom is `ip saddr A drop`.
func dropFrom(a netip.Addr) []expr.Any {
	b := a.As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b[:]},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// skipRelayed is `meta mark relayMark accept`: the relay's own
// connections to the peers must not come back to it.
func skipRelayed() []expr.Any {
	mark := make([]byte, 4)
	binary.NativeEndian.PutUint32(mark, relayMark)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: mark},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// redirectTCP is `ip daddr A meta l4proto tcp redirect to :RelayPort`.
func redirectTCP(a netip.Addr) []expr.Any {
	b := a.As4()
	port := make([]byte, 2)
	binary.BigEndian.PutUint16(port, RelayPort)
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b[:]},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Immediate{Register: 1, Data: port},
		&expr.Redir{RegisterProtoMin: 1},
	}
}

// lossTo is `ip daddr A numgen random mod lossScale < p drop`. numgen
// yields a host-order integer and cmp compares bytes, so the number is
// turned big-endian before the less-than.
func lossTo(a netip.Addr, p uint32) []expr.Any {
	b := a.As4()
	limit := make([]byte, 4)
	binary.BigEndian.PutUint32(limit, p)
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b[:]},
		&expr.Numgen{Register: 1, Modulus: lossScale, Type: 1 /* NFT_NG_RANDOM */},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: limit},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}
