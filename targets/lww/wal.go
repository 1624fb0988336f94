package lww

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The log is a sequence of records, each a 4-byte little-endian payload
// length, a 4-byte CRC-32C of the payload, and the payload (one Entry as
// JSON), in the order the node took or received the writes. A crash can
// leave the last record short or garbled; recovery keeps every whole
// record before it and cuts the rest off.
const (
	walName       = "lww.log"
	recordHeader  = 8
	maxRecordSize = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// wal is the node's durable log file.
type wal struct {
	f    *os.File
	size int64
}

// openWAL opens (or creates) the log in dir and returns the entries it
// holds and how many torn trailing bytes it cut off.
func openWAL(dir string) (*wal, []Entry, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, 0, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, walName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open log: %w", err)
	}
	entries, good := readRecords(f)
	w := &wal{f: f, size: good}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("stat log: %w", err)
	}
	torn := st.Size() - good
	if torn > 0 {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("cut the torn end of the log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("sync the log after cutting it: %w", err)
		}
	}
	return w, entries, torn, nil
}

// readRecords decodes whole records from r until the first short, corrupt
// or undecodable one, and returns them with the bytes they span.
func readRecords(r io.Reader) ([]Entry, int64) {
	br := bufio.NewReader(r)
	var entries []Entry
	var good int64
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return entries, good
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n == 0 || n > maxRecordSize {
			return entries, good
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return entries, good
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:8]) {
			return entries, good
		}
		var e Entry
		if err := json.Unmarshal(payload, &e); err != nil {
			return entries, good
		}
		if len(e.Deps) == 0 {
			e.Deps = nil // no dependencies, however it was written
		}
		entries = append(entries, e)
		good += recordHeader + int64(n)
	}
}

// encodeRecords is the on-disk form of entries.
func encodeRecords(entries []Entry) ([]byte, error) {
	var buf []byte
	for _, e := range entries {
		payload, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode log record %s/%d: %w", e.Origin, e.Seq, err)
		}
		var hdr [recordHeader]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, crcTable))
		buf = append(buf, hdr[:]...)
		buf = append(buf, payload...)
	}
	return buf, nil
}

// append writes entries at the end of the log and fsyncs it: a node
// acknowledges only what is on disk.
func (w *wal) append(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	buf, err := encodeRecords(entries)
	if err != nil {
		return err
	}
	if _, err := w.f.WriteAt(buf, w.size); err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync log: %w", err)
	}
	w.size += int64(len(buf))
	return nil
}

func (w *wal) close() error {
	if w == nil || w.f == nil {
		return errors.New("log already closed")
	}
	err := w.f.Close()
	w.f = nil
	return err
}
