// Package txn checks histories of multi-object transactions the way Elle
// does (Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies from
// Experimental Observations", VLDB 2020), and says which transactional
// consistency models a history rules out.
//
// A history's ops with F "txn" hold Elle's micro-ops: append and r on
// lists (list-append), or w and r on registers (rw-register). The checker
// infers version orders from what the reads prove (parse.go,
// listappend.go, rwregister.go), finds the anomalies single reads and
// single transactions show (txnchecks.go), builds the dependency graph of
// ww, wr and rw edges plus process and real-time ones (graph.go), decides
// every model by whether its subgraph has a cycle (scc.go, search.go),
// names the cycles as Elle does (cycles.go), and explains each anomaly in
// Elle's form (explain.go). The models and the anomalies that rule them
// out are in models.go.
//
// Importing the package registers its checkers with checkers.ForWorkload
// under the workload names txn-list-append and txn-rw-register.
package txn
