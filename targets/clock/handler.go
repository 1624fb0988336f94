package clock

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/faultline/faultline/harness"
)

// Handler serves /admin/clock. POST takes a harness.ClockFault in its JSON
// form ({"offset": nanoseconds, "drift": seconds gained per second}) and
// installs it; GET and POST both answer with the fault in force and the
// node time, so the harness can confirm what it did.
func (c *Clock) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost:
			var f harness.ClockFault
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&f); err != nil {
				http.Error(w, fmt.Sprintf("clock fault body must be {\"offset\": ns, \"drift\": float}: %v", err), http.StatusBadRequest)
				return
			}
			c.Set(f)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET or POST", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Status{Fault: c.Fault(), Now: c.Now().UnixNano()})
	})
}

// Status is the answer of the clock handler.
type Status struct {
	Fault harness.ClockFault `json:"fault"`
	Now   int64              `json:"now"` // node time, ns since the Unix epoch
}
