package clock

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

func TestOffsetShiftsNow(t *testing.T) {
	c := New()
	before := time.Now()
	c.Set(harness.ClockFault{Offset: time.Hour})
	got := c.Now().Sub(before)
	if got < time.Hour || got > time.Hour+time.Second {
		t.Fatalf("node time is %v ahead of real time, want about 1h", got)
	}
	c.Set(harness.ClockFault{})
	if d := c.Now().Sub(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("after reset node time differs from real time by %v", d)
	}
}

func TestDriftScalesElapsed(t *testing.T) {
	c := New()
	c.Set(harness.ClockFault{Drift: 1}) // node time runs twice as fast
	n0, r0 := c.Now(), time.Now()
	time.Sleep(50 * time.Millisecond)
	node, real := c.Since(n0), time.Since(r0)
	// node elapsed should be about twice real elapsed; allow scheduling noise.
	if node < real*3/2 {
		t.Fatalf("drift 1: node elapsed %v, real elapsed %v; want about double", node, real)
	}
}

func TestSleepWakesOnOffsetJump(t *testing.T) {
	c := New()
	done := make(chan error, 1)
	go func() { done <- c.Sleep(context.Background(), time.Hour) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("Sleep(1h) returned before any clock change")
	default:
	}
	c.Set(harness.ClockFault{Offset: 2 * time.Hour})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Sleep did not notice node time jumping past its deadline")
	}
}

func TestSleepHonoursContext(t *testing.T) {
	c := New()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep on a cancelled context returned nil")
	}
}

func TestHandlerTakesClockFaultJSON(t *testing.T) {
	c := New()
	body, _ := json.Marshal(harness.ClockFault{Offset: 90 * time.Second, Drift: 0.5})
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/admin/clock", bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if f := c.Fault(); f.Offset != 90*time.Second || f.Drift != 0.5 {
		t.Fatalf("fault in force %+v", f)
	}
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Fault.Offset != 90*time.Second {
		t.Fatalf("answer %s (%v)", rec.Body, err)
	}

	rec = httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/admin/clock", bytes.NewReader([]byte(`{"offset":"soon"}`))))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad body got status %d", rec.Code)
	}
	if f := c.Fault(); f.Offset != 90*time.Second {
		t.Fatalf("bad body changed the fault to %+v", f)
	}
}
