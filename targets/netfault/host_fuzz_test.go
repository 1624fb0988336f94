package netfault

import (
	"encoding/json"
	"testing"
)

// FuzzHostRules feeds the supervisor's rules request body to the parser:
// no input may panic it, and accepted rules survive a round trip.
func FuzzHostRules(f *testing.F) {
	for _, s := range []string{
		`{"self":"10.0.0.1:7000","drop_from":["10.0.0.2:7000"]}`,
		`{"self":"10.0.0.1:7000","loss":{"10.0.0.3:7000":0.5},"relay":["10.0.0.2:7000"],"links":[{"from":"10.0.0.1","to":"10.0.0.2","latency":1000}]}`,
		`{"self":"[::1]:1"}`, `{}`, `{"self":"1.2.3.4:0"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r HostRules
		if json.Unmarshal(b, &r) != nil || r.Validate() != nil {
			return
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var r2 HostRules
		if err := json.Unmarshal(again, &r2); err != nil || r2.Validate() != nil {
			t.Fatalf("accepted rules %s do not survive a round trip: %v", again, err)
		}
	})
}
