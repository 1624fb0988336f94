//go:build !etcd

package clients

import (
	"fmt"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets/etcd"
)

// Etcd fails: this binary was built without etcd (see targets/etcd).
func Etcd(map[string]string, string) (harness.ClientFactory, error) {
	return nil, fmt.Errorf("etcd client: %w", etcd.ErrNotBuilt)
}
