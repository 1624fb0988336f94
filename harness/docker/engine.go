// Package docker is the Docker runtime: each node of the system under test
// runs in its own container, started and controlled through
// testcontainers-go, on a network made for the test, so faults meet a real
// network stack. No registry is ever contacted: the node image is built
// locally from a FROM scratch Dockerfile holding the static faultline
// binary, and the Ryuk reaper (a pulled image) is disabled; faultline removes
// what it created itself, by label, on every path, and Clean removes what
// interrupted runs left.
package docker

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/faultline/faultline/harness/docker/internal/procscan"
)

// Every package this one imports, testcontainers included, has run its
// init by now; procscan kept testcontainers' from listing every process on
// the machine (see its doc). Put HOST_PROC back as the user had it.
func init() { procscan.Restore() }

// Labels put on everything faultline creates in the engine, so Close and
// Clean find it again whatever state a run died in.
const (
	// LabelOwner marks containers, networks and images as faultline's.
	LabelOwner = "dev.faultline"
	// LabelRun names the run a container or network belongs to.
	LabelRun = "dev.faultline.run"
	// LabelNode names the node a container serves.
	LabelNode = "dev.faultline.node"
	// LabelRole says whether a container is a node or its network holder.
	LabelRole = "dev.faultline.role"
	// LabelDir holds the run directory, so a person (or a test) can tell
	// which run a leftover belongs to.
	LabelDir = "dev.faultline.dir"
)

// ryukEnv disables testcontainers' reaper, which would need a pulled image.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

var ryukOnce sync.Once

// disableRyuk sets TESTCONTAINERS_RYUK_DISABLED=true before the first
// testcontainers call; testcontainers reads its configuration once, so a
// later change would be ignored.
func disableRyuk() error {
	var err error
	ryukOnce.Do(func() {
		if v, ok := os.LookupEnv(ryukEnv); ok && v != "true" {
			err = fmt.Errorf("%s=%q: faultline needs it to be \"true\" (the reaper image cannot be pulled)", ryukEnv, v)
			return
		}
		err = os.Setenv(ryukEnv, "true")
		// testcontainers prints a banner on its first connection; faultline
		// reports on the engine itself.
		tclog.SetDefault(tclog.NewNoopLogger())
	})
	if err == nil && os.Getenv(ryukEnv) != "true" {
		err = fmt.Errorf("%s is %q, not \"true\"", ryukEnv, os.Getenv(ryukEnv))
	}
	return err
}

// engine opens a client to the Docker engine testcontainers would use
// (DOCKER_HOST, the docker context, or the default socket) and checks that
// it answers.
func engine(ctx context.Context) (*client.Client, error) {
	if err := disableRyuk(); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tc, err := testcontainers.NewDockerClientWithOpts(pctx)
	if err != nil {
		return nil, notAnswering(err)
	}
	cli := tc.Client
	// testcontainers falls back to the local socket when DOCKER_HOST does
	// not answer; a user who named a remote engine must not silently get
	// the local one.
	if want := os.Getenv("DOCKER_HOST"); want != "" && cli.DaemonHost() != want {
		cli.Close()
		return nil, fmt.Errorf("no Docker engine answered at %s: start dockerd or set DOCKER_HOST (testcontainers would have used %s instead)", want, cli.DaemonHost())
	}
	if _, err := cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		host := cli.DaemonHost()
		cli.Close()
		return nil, fmt.Errorf("no Docker engine answered at %s: start dockerd or set DOCKER_HOST: %w", host, err)
	}
	return cli, nil
}

// notAnswering words a failure to even build a client, which happens when
// no engine socket exists at all.
func notAnswering(err error) error {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = client.DefaultDockerHost
	}
	return fmt.Errorf("no Docker engine answered at %s: start dockerd or set DOCKER_HOST: %w", host, err)
}

// Available reports whether a Docker engine answers. Its error says where
// it looked and what to do; the Docker tests skip with it.
func Available(ctx context.Context) error {
	cli, err := engine(ctx)
	if err != nil {
		return err
	}
	return cli.Close()
}
