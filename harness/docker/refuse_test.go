package docker

import (
	"context"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
)

// A target whose nodes are an installed command cannot run in the FROM
// scratch image; the refusal comes before any engine call and names the
// runtime to use.
func TestRefusesNodeCommands(t *testing.T) {
	_, err := Runtime{}.Start(context.Background(), harness.ClusterSpec{Nodes: []string{"n1"}, Command: &harness.NodeCommand{Name: "postgres", Argv: []string{"postgres"}}})
	if err == nil || !strings.Contains(err.Error(), "--runtime local") || !strings.Contains(err.Error(), "postgres") {
		t.Fatalf("error %v, want a refusal naming the command and --runtime local", err)
	}
}
