package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/faultline/faultline/harness"
)

// latency slows a random set of directed links, with jitter and loss; its
// stop clears them. Loss stalls a stream rather than corrupting it, as it
// does under TCP.
type latency struct {
	max  time.Duration // the largest base latency drawn
	loss float64       // the loss given to a link that draws one
}

func (l *latency) plan(r *rand.Rand, nodes []string) map[string]any {
	var all [][2]string
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				all = append(all, [2]string{a, b})
			}
		}
	}
	links := map[string]any{}
	for _, p := range all {
		if r.IntN(2) == 0 {
			links[linkName(p[0], p[1])] = l.draw(r)
		}
	}
	if len(links) == 0 && len(all) > 0 {
		p := all[r.IntN(len(all))]
		links[linkName(p[0], p[1])] = l.draw(r)
	}
	return map[string]any{"links": links}
}

// draw picks one link's fault: a latency between half the maximum and the
// maximum, a quarter of it as jitter, and loss on half the links.
func (l *latency) draw(r *rand.Rand) map[string]any {
	half := l.max / 2
	lat := (half + time.Duration(r.Int64N(int64(l.max-half)+1))).Round(time.Millisecond)
	f := map[string]any{"latency": lat.String(), "jitter": (lat / 4).Round(time.Millisecond).String()}
	if l.loss > 0 && r.IntN(2) == 0 {
		f["loss"] = fraction(l.loss)
	}
	return f
}

func (l *latency) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	links, err := asMap(v["links"])
	if err != nil {
		return nil, nil, fmt.Errorf("latency: links: %w", err)
	}
	faults := map[string]harness.LinkFault{}
	for name, fv := range links {
		f, err := asLinkFault(fv)
		if err != nil {
			return nil, nil, fmt.Errorf("latency: link %s: %w", name, err)
		}
		if _, _, err := parseLink(name); err != nil {
			return nil, nil, fmt.Errorf("latency: %w", err)
		}
		faults[name] = f
	}
	names := sortedKeys(faults)
	undo := map[string]any{"links": strList(names)}
	ok, failed, err := eachLink(ctx, names, func(ctx context.Context, from, to string) error {
		return c.SetLink(ctx, from, to, faults[linkName(from, to)])
	})
	done := map[string]any{}
	for _, name := range ok {
		done[name] = links[name]
	}
	res := withFailed(map[string]any{"links": done}, failed)
	if err != nil {
		return res, undo, fmt.Errorf("set link: %w", err)
	}
	return res, undo, nil
}

func (l *latency) stop(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, error) {
	names, err := asStrings(v["links"])
	if err != nil {
		return nil, fmt.Errorf("clear links: %w", err)
	}
	ok, failed, err := eachLink(ctx, names, func(ctx context.Context, from, to string) error {
		return c.SetLink(ctx, from, to, harness.LinkFault{})
	})
	done := withFailed(map[string]any{"links": strList(ok)}, failed)
	if err != nil {
		return done, fmt.Errorf("clear links: %w", err)
	}
	return done, nil
}

func asLinkFault(v any) (harness.LinkFault, error) {
	m, err := asMap(v)
	if err != nil {
		return harness.LinkFault{}, err
	}
	var f harness.LinkFault
	if x, ok := m["latency"]; ok {
		if f.Latency, err = asDuration(x); err != nil {
			return f, fmt.Errorf("latency: %w", err)
		}
	}
	if x, ok := m["jitter"]; ok {
		if f.Jitter, err = asDuration(x); err != nil {
			return f, fmt.Errorf("jitter: %w", err)
		}
	}
	if x, ok := m["loss"]; ok {
		if f.Loss, err = asFraction(x); err != nil {
			return f, fmt.Errorf("loss: %w", err)
		}
	}
	return f, nil
}

// eachLink is eachNode for links named "from->to".
func eachLink(ctx context.Context, names []string, fn func(ctx context.Context, from, to string) error) ([]string, map[string]any, error) {
	return eachNode(ctx, names, func(ctx context.Context, name string) error {
		from, to, err := parseLink(name)
		if err != nil {
			return err
		}
		return fn(ctx, from, to)
	})
}
