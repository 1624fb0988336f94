package results

import (
	"context"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/checkers/txn"
	"github.com/faultline/faultline/harness/history"
)

// writeSkew is a G2-item: each transaction reads the key the other appends
// to, before the other's append.
func writeSkew() history.History {
	t1 := history.Txn{{F: "append", Key: "1", Value: int64(1)}, {F: "r", Key: "2"}}
	t2 := history.Txn{{F: "append", Key: "2", Value: int64(1)}, {F: "r", Key: "1"}}
	d1 := history.Txn{t1[0], {F: "r", Key: "2", Value: []int64{}}}
	d2 := history.Txn{t2[0], {F: "r", Key: "1", Value: []int64{}}}
	return history.History{
		{Index: 0, Time: 0, Process: 0, Type: history.Invoke, F: history.TxnF, Value: t1},
		{Index: 1, Time: 1000, Process: 1, Type: history.Invoke, F: history.TxnF, Value: t2},
		{Index: 2, Time: 2000, Process: 0, Type: history.OK, F: history.TxnF, Value: d1},
		{Index: 3, Time: 3000, Process: 1, Type: history.OK, F: history.TxnF, Value: d2},
	}
}

// The report shows a transactional anomaly as Elle's text and draws its
// cycle, and shows transactions in the timeline as Elle prints them.
func TestReportDrawsTxnCycles(t *testing.T) {
	h := writeSkew()
	r := txn.Checker{Workload: txn.ListAppend}.Check(context.Background(), h, checkers.Options{})
	if len(r.Anomalies) != 1 || len(r.Anomalies[0].Cycle) != 2 {
		t.Fatalf("the checker did not find the write skew: %+v", r)
	}
	v := r.Stats[checkers.TxnModelsStat].(checkers.ModelVerdict)
	sum := Summary{Test: "txn", Valid: r.Valid, Results: []checkers.Result{r}, Models: &v}
	out := writeTestReport(t, h, sum)
	for _, want := range []string{
		`<pre class="explain">Let:`,
		`T1 = {:type :ok, :f :txn, :value [[:append 1 1] [:r 2 []]], :process 0, :index 2}`,
		`a contradiction!</pre>`,
		`<svg class="cycle"`,
		`marker-end="url(#cyc-txn-list-append-0-rw)"`,
		`<title>T1 observed the initial (empty) state of key 2, which T2 created by appending 1</title>`,
		`<title>T1: op #2</title>`,
		`<span class="model kept">strong-snapshot-isolation</span>`,
		`<span class="model ruled-out">serializable</span>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if n := strings.Count(out, `class="edge-label">rw</text>`); n != 2 {
		t.Errorf("%d rw edge labels, want 2", n)
	}
	data := reportData(t, out)
	if !strings.Contains(string(data["v"]), `"[[:append 1 1] [:r 2 []]]"`) {
		t.Errorf("the timeline does not show the transaction in Elle's form: %s", data["v"])
	}
}

func TestCycleSVGBounds(t *testing.T) {
	if s := cycleSVG("x", nil); s != "" {
		t.Errorf("an empty cycle was drawn: %s", s)
	}
	long := make([]checkers.CycleStep, maxCycleDrawn+1)
	if s := cycleSVG("x", long); s != "" {
		t.Error("a cycle too long to read as a drawing was drawn")
	}
	s := cycleSVG("x", []checkers.CycleStep{{Op: 1, Name: "T1", Edge: "ww", Why: "<b>"}, {Op: 2, Name: "T2", Edge: "bogus"}})
	if strings.Contains(string(s), "<b>") || !strings.Contains(string(s), "&lt;b&gt;") {
		t.Errorf("reasons are not escaped: %s", s)
	}
}
