package docker

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestImageIsBuiltOnceAndReused(t *testing.T) {
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	tag1, err := ensureImage(ctx, cli, standin)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cli.ImageInspect(ctx, tag1)
	if err != nil {
		t.Fatal(err)
	}
	tag2, err := ensureImage(ctx, cli, standin)
	if err != nil {
		t.Fatal(err)
	}
	second, err := cli.ImageInspect(ctx, tag2)
	if err != nil {
		t.Fatal(err)
	}
	if tag1 != tag2 || first.ID != second.ID {
		t.Errorf("second ensureImage gave %s (%s), want the first image %s (%s)", tag2, second.ID, tag1, first.ID)
	}
	if first.Config == nil || first.Config.Labels[LabelOwner] != "1" {
		t.Errorf("image is not labelled %s, so Clean could not find it", LabelOwner)
	}
}

func TestDynamicBinaryIsRefused(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "faultline")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(notELF); err == nil {
		t.Errorf("a shell script was accepted as the node binary")
	}
	// /bin/sh is dynamically linked on every Linux this runs on.
	if err := checkStatic("/bin/sh"); err == nil {
		t.Errorf("dynamically linked /bin/sh was accepted")
	} else if !strings.Contains(err.Error(), "dynamically linked") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("error %q does not say to build with CGO_ENABLED=0", err)
	}
	if standin != "" {
		if err := checkStatic(standin); err != nil {
			t.Errorf("the static stand-in was refused: %v", err)
		}
	}
}

func TestCleanRemovesLeftovers(t *testing.T) {
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	// Clean removes every faultline object in the engine; it must not
	// destroy a run someone else has going on the same engine.
	if others := runs(t); len(others) > 0 {
		t.Skipf("other faultline runs are active on this engine (%v); Clean would remove them", others)
	}
	image, err := ensureImage(ctx, cli, standin)
	if err != nil {
		t.Fatal(err)
	}
	// What a harness killed mid-run leaves: a network, a running holder on
	// it and a stopped node, all labelled, none tracked by any Cluster.
	run := "clean-" + newRunID()
	labels := map[string]string{LabelOwner: "1", LabelRun: run, LabelNode: "n1"}
	nw, err := cli.NetworkCreate(ctx, "faultline-"+run, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, role string, start bool) string {
		l := map[string]string{LabelRole: role}
		for k, v := range labels {
			l[k] = v
		}
		hc := &container.HostConfig{}
		if role == "net" {
			hc.NetworkMode = container.NetworkMode(nw.ID)
		}
		res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:       name,
			Config:     &container.Config{Image: image, Cmd: []string{"netfault", "serve", "--listen", "0.0.0.0:7101"}, Labels: l},
			HostConfig: hc,
		})
		if err != nil {
			t.Fatal(err)
		}
		if start {
			if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return name
	}
	holder := mk("faultline-"+run+"-n1-net", "net", true)
	stopped := mk("faultline-"+run+"-n1", "node", false)

	res, err := Clean(ctx, false, false)
	removed := res.Removed
	if err != nil {
		t.Fatalf("clean: %v", err)
	}
	for _, want := range []string{"container/" + holder, "container/" + stopped, "network/faultline-" + run} {
		if !slices.Contains(removed, want) {
			t.Errorf("Clean did not report %s; it removed %v", want, removed)
		}
	}
	assertNothingLeft(t, LabelRun+"="+run)
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		t.Errorf("Clean without images removed the node image: %v", err)
	}

	res, err = Clean(ctx, true, false)
	removed = res.Removed
	if err != nil {
		t.Fatalf("clean images: %v", err)
	}
	if !slices.Contains(removed, "image/"+image) {
		t.Errorf("Clean(images) did not report image/%s; it removed %v", image, removed)
	}
	if _, err := cli.ImageInspect(ctx, image); err == nil {
		t.Errorf("Clean(images) left %s", image)
	}
}
