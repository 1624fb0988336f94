package ssh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// dialTimeout bounds the TCP connect and SSH handshake with one host.
const dialTimeout = 15 * time.Second

// dial opens an SSH connection to h. A refused key or an unknown host key
// is a UsageError naming the host.
func dial(ctx context.Context, h Host, cfg *gossh.ClientConfig) (*gossh.Client, error) {
	cfg.Timeout = dialTimeout
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", h.Addr)
	if err != nil {
		return nil, fmt.Errorf("host %s: connect: %w", h, err)
	}
	// The handshake has no context: closing the connection ends it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(dialTimeout))
	c, chans, reqs, err := gossh.NewClientConn(conn, h.Addr, cfg)
	if err != nil {
		conn.Close()
		msg := err.Error()
		var keyErr *knownhosts.KeyError
		switch {
		case strings.Contains(msg, "unable to authenticate"):
			return nil, &UsageError{fmt.Errorf("host %s refused the SSH key: %w (add the public key to %s's ~/.ssh/authorized_keys, or give --ssh-key FILE)", h, err, h.User)}
		case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
			return nil, &UsageError{fmt.Errorf("host %s: its host key is unknown: %w (add it with ssh-keyscan -p PORT %s >> ~/.ssh/known_hosts after checking it, or give --known-hosts FILE; --insecure-ignore-host-key skips the check)", h, err, h.hostname())}
		case errors.As(err, &keyErr) || strings.Contains(msg, "knownhosts"):
			return nil, &UsageError{fmt.Errorf("host %s: its host key is not the one known: %w (check the host, or add it with ssh-keyscan -p PORT %s >> ~/.ssh/known_hosts, or give --known-hosts FILE; --insecure-ignore-host-key skips the check)", h, err, h.hostname())}
		}
		return nil, fmt.Errorf("host %s: SSH handshake: %w", h, err)
	}
	conn.SetDeadline(time.Time{})
	return gossh.NewClient(c, chans, reqs), nil
}

// run runs a shell command on the host and returns its standard output;
// stdin, when not nil, is fed to it.
func run(ctx context.Context, c *gossh.Client, h Host, cmd string, stdin io.Reader) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("host %s: open a session: %w", h, err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, stdin
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		s.Signal(gossh.SIGKILL)
		s.Close()
		return "", fmt.Errorf("host %s: %s: %w", h, short(cmd), ctx.Err())
	}
	if err != nil {
		return out.String(), fmt.Errorf("host %s: %s: %w: %s", h, short(cmd), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// short cuts a command line down for an error message.
func short(cmd string) string {
	if len(cmd) > 60 {
		cmd = cmd[:60] + "…"
	}
	return cmd
}

// quote makes s one word for a POSIX shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// remote is the harness's end of one supervisor's session.
type remote struct {
	host   Host
	client *gossh.Client
	sess   *gossh.Session
	in     io.WriteCloser
	stderr *syncBuffer
	hello  reply

	wmu sync.Mutex // one line at a time on in

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]chan reply
	dead    error         // set once the session ended
	done    chan struct{} // closed when the session ended

	closeOnce sync.Once
	closed    chan struct{} // closed by close
}

// startSupervisor starts `faultline ssh-host supervise` on the host, reads
// its hello, and renews its lease every renew from then on, so that a
// host set up early keeps its node while slower hosts are still being set
// up.
func startSupervisor(ctx context.Context, c *gossh.Client, h Host, cmd string, renew time.Duration) (*remote, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("host %s: open a session: %w", h, err)
	}
	in, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("host %s: %w", h, err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("host %s: %w", h, err)
	}
	r := &remote{host: h, client: c, sess: s, in: in, stderr: &syncBuffer{}, waiting: map[uint64]chan reply{},
		done: make(chan struct{}), closed: make(chan struct{})}
	s.Stderr = r.stderr
	if err := s.Start(cmd); err != nil {
		s.Close()
		return nil, fmt.Errorf("host %s: start the supervisor: %w", h, err)
	}
	hello := make(chan reply, 1)
	go r.read(out, hello)
	select {
	case rep, ok := <-hello:
		if !ok {
			<-r.done
			return nil, r.dead
		}
		if rep.Error != "" {
			r.close()
			return nil, fmt.Errorf("host %s: supervisor: %s", h, rep.Error)
		}
		r.hello = rep
		go r.renew(renew)
		return r, nil
	case <-ctx.Done():
		r.close()
		return nil, fmt.Errorf("host %s: waiting for the supervisor: %w", h, ctx.Err())
	case <-time.After(dialTimeout):
		r.close()
		return nil, fmt.Errorf("host %s: the supervisor did not answer within %s; it said: %s", h, dialTimeout, r.stderr.String())
	}
}

// read hands each reply line to its caller until the session ends.
func (r *remote) read(out io.Reader, hello chan reply) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	first := true
	for sc.Scan() {
		var rep reply
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			continue
		}
		if first {
			first = false
			hello <- rep
			continue
		}
		r.mu.Lock()
		ch := r.waiting[rep.ID]
		delete(r.waiting, rep.ID)
		r.mu.Unlock()
		if ch != nil {
			ch <- rep
		}
	}
	err := r.sess.Wait()
	r.mu.Lock()
	why := "the supervisor's session ended"
	if err != nil {
		why += " (" + err.Error() + ")"
	}
	if s := strings.TrimSpace(r.stderr.String()); s != "" {
		why += "; it said: " + s
	}
	r.dead = fmt.Errorf("host %s: %s", r.host, why)
	for id, ch := range r.waiting {
		close(ch)
		delete(r.waiting, id)
	}
	r.mu.Unlock()
	if first {
		close(hello)
	}
	close(r.done)
}

// call sends req and waits for its reply.
func (r *remote) call(ctx context.Context, req request) (reply, error) {
	ch := make(chan reply, 1)
	r.mu.Lock()
	if r.dead != nil {
		r.mu.Unlock()
		return reply{}, r.dead
	}
	r.next++
	req.ID = r.next
	r.waiting[req.ID] = ch
	r.mu.Unlock()
	if err := r.send(req); err != nil {
		r.mu.Lock()
		delete(r.waiting, req.ID)
		r.mu.Unlock()
		return reply{}, err
	}
	select {
	case rep, ok := <-ch:
		if !ok {
			<-r.done
			return reply{}, r.dead
		}
		if err := rep.err(); err != nil {
			return rep, fmt.Errorf("host %s: %s: %w", r.host, req.Op, err)
		}
		return rep, nil
	case <-ctx.Done():
		r.mu.Lock()
		delete(r.waiting, req.ID)
		r.mu.Unlock()
		return reply{}, fmt.Errorf("host %s: %s: %w", r.host, req.Op, ctx.Err())
	}
}

// send writes one request line.
func (r *remote) send(req request) error {
	b, err := encodeLine(req)
	if err != nil {
		return err
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if _, err := r.in.Write(b); err != nil {
		return fmt.Errorf("host %s: send %s: %w", r.host, req.Op, err)
	}
	return nil
}

// alive reports whether the supervisor's session is still open.
func (r *remote) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// renew sends a renewal every interval until the session ends or is
// closed. A renewal needs no answer, so a slow request never delays it.
func (r *remote) renew(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-r.closed:
			return
		case <-t.C:
			r.send(request{Op: opRenew})
		}
	}
}

// close ends the session: the supervisor sees its input end and tears
// the node down.
func (r *remote) close() {
	r.closeOnce.Do(func() { close(r.closed) })
	r.in.Close()
	r.sess.Close()
}

// syncBuffer is a bytes.Buffer safe for one writer and other readers,
// bounded so a chatty supervisor cannot grow it without end.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 64<<10 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var errClosed = errors.New("the cluster is closed")
