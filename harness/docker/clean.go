package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"
)

// Clean removes what interrupted runs left in the engine: every container
// and network labelled as faultline's, and with images also the node
// images faultline built. It returns what it removed, as kind/name.
func Clean(ctx context.Context, images bool) (removed []string, err error) {
	cli, err := engine(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	removed, err = removeLabelled(ctx, cli, LabelOwner)
	if !images {
		return removed, err
	}
	errs := []error{err}
	list, lerr := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelOwner)})
	if lerr != nil {
		return removed, errors.Join(err, fmt.Errorf("list images: %w", lerr))
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
		removed = append(removed, "image/"+name)
	}
	return removed, errors.Join(errs...)
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
