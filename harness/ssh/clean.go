package ssh

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Clean removes from each host what runs whose harness was killed left
// there — processes, nftables tables and run directories under
// Options.Dir — and nothing of a live run. It returns what it did, one
// line per item, each prefixed with the host. binary is the faultline
// binary to run there ("" means this executable), uploaded first unless
// the host has it.
func Clean(ctx context.Context, hosts map[string]Host, opts Options, binary string) ([]string, error) {
	if opts.Dir == "" {
		opts.Dir = DefaultDir
	}
	var mu sync.Mutex
	var lines []string
	ids := make([]string, 0, len(hosts))
	for id := range hosts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range ids {
		h := hosts[id]
		g.Go(func() error {
			cfg, closeAgent, err := clientConfig(h.User, opts)
			if err != nil {
				return err
			}
			defer closeAgent()
			client, err := dial(gctx, h, cfg)
			if err != nil {
				return err
			}
			defer client.Close()
			bin, err := binaryOrSelf(binary)
			if err != nil {
				return err
			}
			p, err := prepare(gctx, client, h, opts.Dir, bin)
			if err != nil {
				return err
			}
			out, err := run(gctx, client, h, fmt.Sprintf("%s ssh-host clean --dir %s", quote(p.binary), quote(p.base)), nil)
			mu.Lock()
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l != "" {
					lines = append(lines, h.User+"@"+h.Addr+": "+l)
				}
			}
			mu.Unlock()
			return err
		})
	}
	err := g.Wait()
	sort.Strings(lines)
	if err != nil {
		return lines, fmt.Errorf("ssh clean: %w", err)
	}
	return lines, nil
}

// binaryOrSelf hashes p, or this executable when p is "".
func binaryOrSelf(p string) (localBinary, error) {
	if p == "" {
		var err error
		if p, err = os.Executable(); err != nil {
			return localBinary{}, fmt.Errorf("finding the faultline binary: %w", err)
		}
	}
	return hashBinary(p)
}
