package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// imageRepo is the repository of the node images faultline builds.
const imageRepo = "faultline-node"

// dockerfile is the whole node image: the static binary and the two
// directories it writes to. FROM scratch needs no pull. The label comes
// first so that every layer carries it: a build cut off by an interrupt
// leaves untagged layers, which `faultline clean --images` then finds.
const dockerfile = `FROM scratch
LABEL ` + LabelOwner + `="1"
COPY faultline /faultline
WORKDIR /tmp
WORKDIR /data
ENTRYPOINT ["/faultline"]
`

// checkStatic refuses binaries that cannot run in a FROM scratch image: not
// Linux ELF, or dynamically linked (a PT_INTERP program header names the
// loader that the image does not have).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("node binary %s is not a Linux ELF executable (build it with GOOS=linux CGO_ENABLED=0 go build ./cmd/faultline and pass it as the binary): %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("node binary %s is dynamically linked and cannot run in the FROM scratch node image: build it with CGO_ENABLED=0 go build ./cmd/faultline", path)
		}
	}
	return nil
}

// imageTag names the image for a binary by the hash of everything in it, so
// a second run with the same binary reuses the image and a new binary gets
// a new one.
func imageTag(binary []byte) string {
	h := sha256.New()
	h.Write([]byte(dockerfile))
	h.Write(binary)
	return imageRepo + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ensureImage returns the tag of the node image for binaryPath, building it
// when the engine does not have it yet.
func ensureImage(ctx context.Context, cli *client.Client, binaryPath string) (string, error) {
	if err := checkStatic(binaryPath); err != nil {
		return "", err
	}
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return "", fmt.Errorf("read node binary: %w", err)
	}
	tag := imageTag(bin)
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect image %s: %w", tag, err)
	}
	buildCtx, err := contextTar(bin)
	if err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{LabelOwner: "1"},
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	defer res.Body.Close()
	if err := buildOutcome(res.Body); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	if _, err := cli.ImageInspect(ctx, tag); err != nil {
		return "", fmt.Errorf("image %s missing after its build: %w", tag, err)
	}
	return tag, nil
}

// contextTar is the build context: the Dockerfile and the binary.
func contextTar(bin []byte) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte(dockerfile)},
		{"faultline", 0o755, bin},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return &buf, nil
}

// buildOutcome reads the engine's build stream to its end: a failed build
// is reported inside the stream, not as an HTTP error.
func buildOutcome(r io.Reader) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			tail = append(tail, s)
			if len(tail) > 5 {
				tail = tail[1:]
			}
		}
		if m.Error != "" || m.ErrorDetail.Message != "" {
			msg := m.ErrorDetail.Message
			if msg == "" {
				msg = m.Error
			}
			return fmt.Errorf("%s (after: %s)", msg, strings.Join(tail, " | "))
		}
	}
}
