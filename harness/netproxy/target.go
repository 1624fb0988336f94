package netproxy

// SetTarget points every proxy that leads to node `to` at a new address,
// for a node restarted on another port; connections dialled afterwards go
// there, and established ones stay where they are, as a moved server's
// clients would find.
func (m *Mesh) SetTarget(to, addr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.proxies {
		if p.to == to {
			p.target = addr
		}
	}
}

// target is where p currently leads.
func (m *Mesh) target(p *proxy) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return p.target
}
