package kv

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
	"sync/atomic"
)

// The write-ahead log is a sequence of records, each a 4-byte little-endian
// payload length, a 4-byte CRC-32C of the payload, and the payload (one
// Entry as JSON). A crash can leave the last record short or garbled;
// recovery keeps every whole record before it and cuts the rest off.
//
// The file is grown ahead of the records in zero-filled chunks, made
// durable with a full fsync, and records then overwrite the zeros: an
// fdatasync of an overwrite carries only the data, where an fsync of an
// append also writes the inode for the new size (on this project's ext4,
// about half the cost). A zero length ends the log, so recovery reads the
// zeros as free space, not as damage.
const (
	walName       = "wal.log"
	recordHeader  = 8
	maxRecordSize = 1 << 20
	// preallocChunk is how far the file grows ahead of the records.
	preallocChunk = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// wal is the node's durable log file. write and truncate are called with
// the server's lock held, one at a time; sync may run beside them, which
// is what lets writes that arrive during an fsync be written meanwhile and
// share the next one.
type wal struct {
	f         *os.File
	fd        int     // f's descriptor, for fdatasync
	offsets   []int64 // start of each record, so a divergent suffix can be cut off
	size      int64   // end of the last record
	allocated int64   // the file's size: records, then zeros
	// grown is set when the file's size changed since the last sync, which
	// must then be a full fsync.
	grown atomic.Bool

	records atomic.Uint64 // records written since the node started
	syncs   atomic.Uint64 // fsyncs since the node started
	// synced, when set (tests only), is called after each fsync of the
	// log with the file size it covered: a power-loss test keeps that
	// much of the file and drops the rest.
	synced func(size int64)
}

// openWAL opens (or creates) the log in dir and returns it with the entries
// it holds. torn reports how many trailing bytes were cut off as a torn or
// corrupt record.
func openWAL(dir string) (w *wal, entries []Entry, torn int64, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, 0, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, walName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("open wal: %w", err)
	}
	w = &wal{f: f, fd: int(f.Fd())}
	r := bufio.NewReader(f)
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			break // a short header: torn
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		if n == 0 || n > maxRecordSize {
			break
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, crcTable) != sum {
			break
		}
		var e Entry
		if err := json.Unmarshal(payload, &e); err != nil {
			break
		}
		if e.Index != uint64(len(entries))+1 {
			break // a record out of sequence cannot follow a good log
		}
		w.offsets = append(w.offsets, w.size)
		w.size += recordHeader + int64(n)
		entries = append(entries, e)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("stat wal: %w", err)
	}
	w.allocated = st.Size()
	zeros, err := allZero(f, w.size, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("read wal tail: %w", err)
	}
	if torn = st.Size() - w.size; torn > 0 && !zeros {
		w.allocated = w.size
		if err := f.Truncate(w.size); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("truncate torn wal tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, 0, fmt.Errorf("sync wal after truncation: %w", err)
		}
	}
	if zeros {
		torn = 0 // space grown ahead, not damage
	}
	if _, err := f.Seek(w.size, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, 0, fmt.Errorf("seek wal end: %w", err)
	}
	return w, entries, torn, nil
}

// allZero reports whether f holds only zero bytes from from to to.
func allZero(f *os.File, from, to int64) (bool, error) {
	buf := make([]byte, 64<<10)
	for off := from; off < to; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-off)], off)
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		off += int64(n)
		if err != nil && off < to {
			return false, err
		}
	}
	return true, nil
}

// grow makes the file at least need bytes long, in zero-filled chunks.
func (w *wal) grow(need int64) error {
	if need <= w.allocated {
		return nil
	}
	size := (need + preallocChunk - 1) / preallocChunk * preallocChunk
	if _, err := w.f.WriteAt(make([]byte, size-w.allocated), w.allocated); err != nil {
		return fmt.Errorf("grow wal to %d bytes: %w", size, err)
	}
	w.allocated = size
	w.grown.Store(true)
	return nil
}

// write writes entries at the end of the log, without fsync: they are
// durable once a sync that starts after write returns has returned.
func (w *wal) write(entries []Entry) error {
	var buf []byte
	offsets := make([]int64, 0, len(entries))
	pos := w.size
	for _, e := range entries {
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode wal entry %d: %w", e.Index, err)
		}
		var hdr [recordHeader]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, crcTable))
		offsets = append(offsets, pos)
		pos += recordHeader + int64(len(payload))
		buf = append(buf, hdr[:]...)
		buf = append(buf, payload...)
	}
	if err := w.grow(pos); err != nil {
		return err
	}
	if _, err := w.f.WriteAt(buf, w.size); err != nil {
		return fmt.Errorf("write wal: %w", err)
	}
	w.offsets = append(w.offsets, offsets...)
	w.size = pos
	w.records.Add(uint64(len(entries)))
	return nil
}

// sync fsyncs the log: every write that returned before it began is then
// on disk. size is the file size at that moment (read under the server's
// lock), reported to the test hook.
func (w *wal) sync(size int64) error {
	if w.grown.Swap(false) {
		if err := w.f.Sync(); err != nil {
			w.grown.Store(true)
			return fmt.Errorf("fsync wal: %w", err)
		}
	} else if err := datasync(w.f, w.fd); err != nil {
		return fmt.Errorf("fdatasync wal: %w", err)
	}
	w.syncs.Add(1)
	if w.synced != nil {
		w.synced(size)
	}
	return nil
}

// truncate keeps the first n records and drops the rest, durably: a node
// that discards a divergent suffix must not resurrect it on restart.
// It fsyncs even when nothing is cut, so the records it keeps (a batch
// still being flushed included) are durable when it returns.
func (w *wal) truncate(n int) error {
	if n < len(w.offsets) {
		size := w.offsets[n]
		if err := w.f.Truncate(size); err != nil {
			return fmt.Errorf("truncate wal to %d records: %w", n, err)
		}
		w.offsets = w.offsets[:n]
		w.size, w.allocated = size, size
		w.grown.Store(true)
	}
	if err := w.sync(w.size); err != nil {
		return fmt.Errorf("after truncating to %d records: %w", n, err)
	}
	return nil
}

func (w *wal) close() error { return w.f.Close() }

// meta is the node's durable view of the epoch, written whenever it
// changes so a restarted node does not go back to an older epoch.
type meta struct {
	Epoch   uint64 `json:"epoch"`
	Primary string `json:"primary"`
}

const metaName = "meta.json"

func readMeta(dir string) (meta, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if errors.Is(err, os.ErrNotExist) {
		return meta{}, false, nil
	}
	if err != nil {
		return meta{}, false, fmt.Errorf("read meta: %w", err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		// The file is replaced by rename, so a bad one is not a torn
		// write but damage; start from the log's epoch instead.
		return meta{}, false, nil
	}
	return m, true, nil
}

func writeMeta(dir string, m meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode meta: %w", err)
	}
	tmp := filepath.Join(dir, metaName+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create meta: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write meta: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync meta: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close meta: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, metaName)); err != nil {
		return fmt.Errorf("install meta: %w", err)
	}
	return nil
}
