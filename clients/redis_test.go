package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestRedisWriteOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want history.Type
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, history.Fail},
		{fmt.Errorf("redis: all sentinels specified in configuration are unreachable: %w", errors.New("i/o timeout")), history.Fail},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, history.Info},
		{context.DeadlineExceeded, history.Info},
	} {
		if got := redisWriteOutcome(tc.err); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.err, got, tc.want)
		}
	}
}
