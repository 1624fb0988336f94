package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
)

// progress shows a run in flight: one line rewritten in place on a
// terminal, or a plain line every few seconds when the output is a file or
// a CI log.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	shown bool             // a live line is on screen
	last  harness.Progress // the last one shown
}

// plainEvery spaces progress lines when the output is not a terminal.
const plainEvery = 5 * time.Second

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(s harness.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	dt := s.Elapsed - p.last.Elapsed
	if !p.tty && dt < plainEvery {
		return
	}
	rate := float64(s.Counts.Client()-p.last.Counts.Client()) / dt.Seconds()
	fault := ""
	if s.Fault != "" {
		fault = "  fault: " + s.Fault
	}
	line := fmt.Sprintf("%6.1fs  ok %d  fail %d  info %d  %.0f ops/s%s",
		s.Elapsed.Seconds(), s.Counts.OK, s.Counts.Fail, s.Counts.Info, rate, fault)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.last = s
}

// lineWriter returns a writer for phase lines that does not garble the
// live line.
func (p *progress) lineWriter() io.Writer { return lineFunc(p.line) }

func (p *progress) line(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
	return p.w.Write(b)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

type lineFunc func([]byte) (int, error)

func (f lineFunc) Write(b []byte) (int, error) { return f(b) }
