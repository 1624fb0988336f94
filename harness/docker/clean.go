package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/moby/moby/client"

	"github.com/faultline/faultline/results"
)

// Cleaned is what Clean did: what it removed, as kind/name, and what it
// kept, run by run, with why.
type Cleaned struct {
	Removed []string
	Kept    []string
}

// liveHistory is how recently a run without a harness label (made by an
// older faultline) must have written its history to count as live.
const liveHistory = time.Minute

// Clean removes what interrupted runs left in the engine: the containers
// and networks of every run whose harness is gone. A run whose harness is
// alive on this machine is never touched, nor one whose harness ran on
// another machine (this one cannot tell whether it lives) unless
// anyHost is set. With images it also removes the node images faultline
// built, unless a run kept is using them.
func Clean(ctx context.Context, images, anyHost bool) (Cleaned, error) {
	var out Cleaned
	cli, err := engine(ctx)
	if err != nil {
		return out, err
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", LabelOwner)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return out, fmt.Errorf("list containers labelled %s: %w", LabelOwner, err)
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return out, fmt.Errorf("list networks labelled %s: %w", LabelOwner, err)
	}
	// Every object of one run shares its labels; judge each run once.
	type run struct {
		labels     map[string]string
		containers []string
	}
	runs := map[string]*run{}
	note := func(labels map[string]string) *run {
		id := labels[LabelRun]
		r := runs[id]
		if r == nil {
			r = &run{labels: labels}
			runs[id] = r
		}
		return r
	}
	for _, c := range cs.Items {
		note(c.Labels).containers = append(note(c.Labels).containers, c.ID)
	}
	for _, n := range nets.Items {
		note(n.Labels)
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(runs)) {
		r := runs[id]
		keep, why := keepRun(r.labels, anyHost)
		if keep {
			out.Kept = append(out.Kept, fmt.Sprintf("run %s (%d containers): %s", orNone(id), len(r.containers), why))
			continue
		}
		if id == "" {
			removed, err := removeContainers(ctx, cli, r.containers)
			out.Removed = append(out.Removed, removed...)
			errs = append(errs, err)
			continue
		}
		removed, err := removeLabelled(ctx, cli, LabelRun+"="+id)
		out.Removed = append(out.Removed, removed...)
		errs = append(errs, err)
	}
	if !images {
		return out, errors.Join(errs...)
	}
	if len(out.Kept) > 0 {
		out.Kept = append(out.Kept, "the node images: runs kept above may need them")
		return out, errors.Join(errs...)
	}
	list, lerr := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelOwner)})
	if lerr != nil {
		return out, errors.Join(append(errs, fmt.Errorf("list images: %w", lerr))...)
	}
	for _, im := range list.Items {
		if _, rerr := cli.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); rerr != nil {
			errs = append(errs, fmt.Errorf("remove image %s: %w", im.ID, rerr))
			continue
		}
		name := im.ID
		if len(im.RepoTags) > 0 {
			name = im.RepoTags[0]
		}
		out.Removed = append(out.Removed, "image/"+name)
	}
	return out, errors.Join(errs...)
}

// keepRun decides whether a run's objects stay, and says why.
func keepRun(labels map[string]string, anyHost bool) (bool, string) {
	if h, ok := labels[LabelHarness]; ok {
		switch state, who := stateOf(h); state {
		case harnessAlive:
			return true, "its harness (" + who + ") is running"
		case harnessElsewhere:
			if !anyHost {
				return true, "its harness ran on " + who + ", where `faultline clean` can tell whether it lives (or use --any-host)"
			}
		}
		return false, ""
	}
	// An older faultline labelled no harness: a run whose history was
	// written a moment ago is going on.
	if dir := labels[LabelDir]; dir != "" {
		if fi, err := os.Stat(filepath.Join(dir, results.HistoryFile)); err == nil && time.Since(fi.ModTime()) < liveHistory {
			return true, "its history " + filepath.Join(dir, results.HistoryFile) + " was written in the last minute"
		}
	}
	return false, ""
}

// removeContainers force-removes containers by id.
func removeContainers(ctx context.Context, cli *client.Client, ids []string) ([]string, error) {
	var removed []string
	var errs []error
	for _, id := range ids {
		if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", id[:12], err))
			continue
		}
		removed = append(removed, "container/"+id[:12])
	}
	return removed, errors.Join(errs...)
}

func orNone(id string) string {
	if id == "" {
		return "(unnamed)"
	}
	return id
}

// removeLabelled force-removes the containers, then the networks, that
// carry label (a key, or key=value). Node containers go before their
// network holders because they live in the holders' namespaces.
func removeLabelled(ctx context.Context, cli *client.Client, label string) (removed []string, err error) {
	f := make(client.Filters).Add("label", label)
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s: %w", label, err)
	}
	var errs []error
	for _, role := range []string{"node", "net", ""} {
		for _, ctr := range list.Items {
			r, ok := ctr.Labels[LabelRole]
			if (role != "" && r != role) || (role == "" && ok && (r == "node" || r == "net")) {
				continue
			}
			if _, rerr := cli.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil {
				errs = append(errs, fmt.Errorf("remove container %s: %w", ctr.ID[:12], rerr))
				continue
			}
			name := ctr.ID[:12]
			if len(ctr.Names) > 0 {
				name = ctr.Names[0][1:]
			}
			removed = append(removed, "container/"+name)
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks labelled %s: %w", label, err))...)
	}
	for _, nw := range nets.Items {
		if _, rerr := cli.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); rerr != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, rerr))
			continue
		}
		removed = append(removed, "network/"+nw.Name)
	}
	return removed, errors.Join(errs...)
}
