package twopc

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Record is one entry of a node's durable log. The coordinator logs its
// boots, its commit decisions and the end of each committed transaction
// (presumed abort: nothing for aborts); a participant logs each prepare
// before voting yes, each pre-commit (3PC) before acknowledging it, and
// each commit or abort.
type Record struct {
	Kind   string   `json:"kind"`
	Txn    TxnID    `json:"txn,omitempty"`
	Ops    []Op     `json:"ops,omitempty"`
	Parts  []string `json:"parts,omitempty"`
	At     int64    `json:"at"` // node time, ns since the Unix epoch
	Boot   int64    `json:"boot,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

// Record kinds.
const (
	RecBoot           = "boot"     // coordinator: one per start, numbering read ids apart
	RecDecision       = "decision" // coordinator: commit Txn at Parts
	RecEnd            = "end"      // coordinator: every participant acknowledged Txn's commit
	RecPrepare        = "prepare"  // participant: Txn prepared with Ops, voted yes
	RecPreCommit      = "pre-commit"
	RecCommit         = "commit"
	RecAbort          = "abort"
	RecHeuristicAbort = "heuristic-abort"
)

// The log is a sequence of records, each a 4-byte little-endian payload
// length, a 4-byte CRC-32C of the payload, and the payload (one Record as
// JSON). A crash can leave the last record short or garbled; opening the
// log keeps every whole record before it and cuts the rest off.
const (
	logName       = "twopc.log"
	recordHeader  = 8
	maxRecordSize = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// recordLog is a node's durable log file.
type recordLog struct {
	f    *os.File
	size int64
}

// openLog opens (or creates) the log in dir and returns the records it
// holds; torn is how many trailing bytes were cut off.
func openLog(dir string) (l *recordLog, recs []Record, torn int64, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, 0, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open log: %w", err)
	}
	l = &recordLog{f: f}
	r := bufio.NewReader(f)
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // EOF, or a short header: torn
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n == 0 || n > maxRecordSize {
			break
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:8]) {
			break
		}
		var rec Record
		if err := json.Unmarshal(payload, &rec); err != nil {
			break
		}
		recs = append(recs, rec)
		l.size += recordHeader + int64(n)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("stat log: %w", err)
	}
	if torn = st.Size() - l.size; torn > 0 {
		if err := f.Truncate(l.size); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("cut the torn log tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("fsync the log after cutting its tail: %w", err)
		}
	}
	return l, recs, torn, nil
}

// append writes recs at the end of the log and, when sync is set, fsyncs
// before returning: what the caller does next may depend on them.
func (l *recordLog) append(recs []Record, sync bool) error {
	if len(recs) == 0 {
		return nil
	}
	var buf []byte
	for _, rec := range recs {
		payload, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encode %s record: %w", rec.Kind, err)
		}
		var hdr [recordHeader]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, crcTable))
		buf = append(buf, hdr[:]...)
		buf = append(buf, payload...)
	}
	if _, err := l.f.WriteAt(buf, l.size); err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	l.size += int64(len(buf))
	if sync {
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("fsync log: %w", err)
		}
	}
	return nil
}

func (l *recordLog) close() error { return l.f.Close() }
