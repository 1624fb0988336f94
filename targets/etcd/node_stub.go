//go:build !etcd

package etcd

import (
	"context"
	"io"
)

// Built reports that this binary embeds the etcd server: it does not.
const Built = false

// Run fails: this binary was built without the etcd server.
func Run(context.Context, Config, io.Writer) error { return ErrNotBuilt }
