package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// flushEvery bounds how much of the history a killed harness can lose.
const flushEvery = 100 * time.Millisecond

// Recorder appends every operation to history.jsonl as it happens and keeps
// the history in memory for the checkers. It stamps each op with a dense
// index and a time from one monotonic clock, under one lock, so indices and
// times ascend together.
type Recorder struct {
	mu     sync.Mutex
	start  time.Time
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	h      history.History
	counts results.Counts
	err    error
	stop   chan struct{}
	done   chan struct{}
}

// NewRecorder creates path and starts flushing it every 100 ms. start is
// time zero of the history.
func NewRecorder(path string, start time.Time) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating history: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	r := &Recorder{start: start, f: f, w: w, enc: json.NewEncoder(w),
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.flushLoop()
	return r, nil
}

func (r *Recorder) flushLoop() {
	defer close(r.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			if r.err == nil {
				r.err = r.w.Flush()
			}
			r.mu.Unlock()
		}
	}
}

// Record stamps op with the next index and the current time, appends it,
// and returns the stamped op.
func (r *Recorder) Record(op history.Op) history.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Index = len(r.h)
	op.Time = time.Since(r.start).Nanoseconds()
	if n := len(r.h); n > 0 && op.Time < r.h[n-1].Time {
		op.Time = r.h[n-1].Time // monotonic already; this guards a coarse clock
	}
	r.h = append(r.h, op)
	r.counts.Add(op)
	if r.err == nil {
		r.err = r.enc.Encode(op)
	}
	return op
}

// Counts returns the tallies so far.
func (r *Recorder) Counts() results.Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// History returns a copy of the ops recorded so far.
func (r *Recorder) History() history.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(history.History(nil), r.h...)
}

// Close flushes and closes the file. It returns the first write error.
func (r *Recorder) Close() error {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.w.Flush()
	}
	if err := r.f.Close(); r.err == nil {
		r.err = err
	}
	if r.err != nil {
		return fmt.Errorf("writing history %s: %w", r.f.Name(), r.err)
	}
	return nil
}
