package ssh

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// localBinary is the faultline binary the harness uploads, with its
// SHA-256.
type localBinary struct {
	path string
	sum  string // hex
}

func hashBinary(p string) (localBinary, error) {
	if err := checkStatic(p); err != nil {
		return localBinary{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return localBinary{}, fmt.Errorf("open the faultline binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return localBinary{}, fmt.Errorf("read the faultline binary: %w", err)
	}
	return localBinary{path: p, sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// checkStatic refuses a dynamically linked binary: the hosts may lack its
// C libraries, or have other versions of them.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return &UsageError{fmt.Errorf("the faultline binary %s is not a Linux executable the hosts can run: %w", p, err)}
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return &UsageError{fmt.Errorf("the faultline binary %s is dynamically linked (built with cgo), so the hosts may not run it: build it static with CGO_ENABLED=0 go build -o faultline ./cmd/faultline and run that", p)}
		}
	}
	return nil
}

// remoteName is the binary's name on the hosts: its checksum, so that
// runs of different versions never replace each other's binary.
func (b localBinary) remoteName() string { return "faultline-" + b.sum[:16] }

// unameOf is what `uname -sm` prints on a machine this binary runs on.
func unameOf() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return "Linux " + arch
}

// answerMark starts the answer of the set-up command.
const answerMark = "faultline-prepare"

// prepared is what setting up one host found.
type prepared struct {
	base     string // faultline's directory on the host, absolute
	binary   string // the binary's path on the host
	uploaded bool   // false when the host already had this binary
}

// prepare makes faultline's directory on the host, checks that the host
// can run this binary, and uploads it unless a file with the same
// checksum is already there: the checksum comes first, so an unchanged
// binary is never sent again.
func prepare(ctx context.Context, c *gossh.Client, h Host, dir string, b localBinary) (prepared, error) {
	name := b.remoteName()
	out, err := run(ctx, c, h, fmt.Sprintf(
		"mkdir -p %[1]s/bin %[1]s/runs && cd %[1]s && echo %[3]s && pwd && uname -sm && (sha256sum bin/%[2]s 2>/dev/null || echo none)",
		quote(dir), name, answerMark), nil)
	if err != nil {
		return prepared{}, fmt.Errorf("preparing %s: %w", dir, err)
	}
	// Whatever a login script printed comes before the mark.
	if i := strings.LastIndex(out, answerMark+"\n"); i >= 0 {
		out = out[i+len(answerMark)+1:]
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		return prepared{}, fmt.Errorf("host %s: unexpected answer to the set-up command: %q", h, out)
	}
	p := prepared{base: strings.TrimSpace(lines[0])}
	p.binary = path.Join(p.base, "bin", name)
	if got, want := strings.TrimSpace(lines[1]), unameOf(); got != want {
		return prepared{}, &UsageError{fmt.Errorf("host %s is %q, but this faultline binary is built for %q: run the harness from a binary built for the hosts (GOOS=linux GOARCH=... CGO_ENABLED=0 go build ./cmd/faultline)", h, got, want)}
	}
	if f := strings.Fields(lines[2]); len(f) > 0 && f[0] == b.sum {
		return p, nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return prepared{}, fmt.Errorf("open the faultline binary: %w", err)
	}
	defer f.Close()
	// Written under a temporary name and renamed, so that a host whose
	// nodes share the directory never runs a half-written binary.
	tmp := quote(p.binary) + ".tmp.$$"
	out, err = run(ctx, c, h, fmt.Sprintf("cat > %[1]s && chmod 755 %[1]s && mv -f %[1]s %[2]s && sha256sum %[2]s", tmp, quote(p.binary)), f)
	if err != nil {
		return prepared{}, fmt.Errorf("uploading faultline: %w", err)
	}
	if f := strings.Fields(out); len(f) == 0 || f[0] != b.sum {
		return prepared{}, fmt.Errorf("host %s: the uploaded binary's checksum is %q, want %s", h, out, b.sum)
	}
	p.uploaded = true
	return p, nil
}
