package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

// The write-ahead log. An answered Update is durable because its record is
// in the log and fdatasynced; bbolt gets the writes later, many Updates in
// one commit (see flusher). Two files take turns: a generation of records
// goes to one file from its start while the other holds the generation being
// flushed to bbolt; once that flush has committed, the older file's records
// are all in bbolt and the file is written over by the generation after
// next. Writing over blocks a file already has costs one fdatasync of the
// data (about 0.13 ms on this project's test machine), where appending also
// commits the file system's journal (about 0.26 ms) and bbolt's commit of a
// group of creates costs two fdatasyncs and 40-odd pages (1-3 ms).
//
// A record is
//
//	crc32c (4 bytes, over the rest) | payload length n (4) | seq (8) | payload (n)
//
// all little-endian; the payload is a run of operations, each an op byte
// (opPut or opDelete), the key as a uvarint length and bytes and, for a
// put, the value likewise. Records in a file have consecutive sequence
// numbers from the file's start. Reading stops at the first record that is
// torn (a crash during its write, never acknowledged), that fails its
// checksum, or that does not carry the next number: what follows is the
// older generation the file held before.

const (
	walHeaderSize = 16
	opPut         = 1
	opDelete      = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errWALDamaged is wrapped by Open when the log's records cannot be
// replayed in order.
var errWALDamaged = errors.New("storage/bolt: write-ahead log is damaged")

// walPaths are the two log files of the bbolt file at path.
func walPaths(path string) [2]string {
	return [2]string{path + "-wal.0", path + "-wal.1"}
}

// wal is the pair of log files. Only the syncer writes to it, so it needs
// no lock of its own.
type wal struct {
	files  [2]*os.File
	cur    int   // file the next records go to
	off    int64 // where in it: the end of the last durable record
	noSync bool
	// fault is the store's test seam for a failing disk; the pointer is
	// set once, before the first write.
	fault *atomic.Pointer[diskFault]
}

// openWAL opens (creating if need be) the two files of the log.
func openWAL(path string, noSync bool) (*wal, error) {
	w := &wal{noSync: noSync}
	created := false
	for i, p := range walPaths(path) {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			created = true
		} else if errors.Is(err, fs.ErrExist) {
			f, err = os.OpenFile(p, os.O_RDWR, 0o600)
		}
		if err != nil {
			w.close()
			return nil, fmt.Errorf("storage/bolt: open write-ahead log: %w", err)
		}
		w.files[i] = f
	}
	if created && !noSync {
		// A new file's name must be durable before a record in it is
		// acknowledged, or a power cut could take the file away.
		if err := syncDir(filepath.Dir(path)); err != nil {
			w.close()
			return nil, fmt.Errorf("storage/bolt: open write-ahead log: sync directory: %w", err)
		}
	}
	return w, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// write writes buf at the current position; if rot >= 0, buf[:rot] ends
// the current generation and buf[rot:] starts the next one at the start of
// the other file. Each file written is fdatasynced, the older first.
//
// If it fails, the position goes back to where it was, as if nothing had
// been written; but the files may hold some of buf, even durably (the
// part before rot), and cut must take it out before anything else is
// written.
func (w *wal) write(buf []byte, rot int) error {
	cur, off := w.cur, w.off
	err := w.writeGenerations(buf, rot)
	if err != nil {
		w.cur, w.off = cur, off
	}
	return err
}

func (w *wal) writeGenerations(buf []byte, rot int) error {
	if rot >= 0 {
		if rot > 0 {
			if err := w.writeAt(buf[:rot]); err != nil {
				return err
			}
		}
		w.cur ^= 1
		w.off = 0
		buf = buf[rot:]
	}
	if len(buf) == 0 {
		return nil
	}
	return w.writeAt(buf)
}

func (w *wal) writeAt(buf []byte) error {
	f := w.files[w.cur]
	if err := w.injected(opLogWrite); err != nil {
		// As a write cut short by a full disk: part of it is in the file.
		_, _ = f.WriteAt(buf[:len(buf)/2], w.off)
		return fmt.Errorf("storage/bolt: write-ahead log: %w", &fs.PathError{Op: "write", Path: f.Name(), Err: err})
	}
	if _, err := f.WriteAt(buf, w.off); err != nil {
		return fmt.Errorf("storage/bolt: write-ahead log: %w", err)
	}
	w.off += int64(len(buf))
	if w.noSync {
		return nil
	}
	err := w.injected(opLogSync)
	if err == nil {
		err = fdatasync(f)
	}
	if err != nil {
		return fmt.Errorf("storage/bolt: write-ahead log: sync: %w", err)
	}
	return nil
}

// injected asks the test seam, if there is one, what the disk answers to
// op.
func (w *wal) injected(op string) error {
	if w.fault == nil {
		return nil
	}
	if f := w.fault.Load(); f != nil {
		return (*f)(op)
	}
	return nil
}

// cut takes out of the log what a failed write put there, so that records
// written from the position on, which will carry the same sequence
// numbers, can never be read together with those. It cuts the current
// file at the position; if the failed write began a new generation, it
// also empties the other file, whose records before that write were all
// in bbolt (a generation only starts in a file once the flush of the one
// it held has committed). Cutting needs no free space. Both are
// fdatasynced before cut returns: an Update that failed must not come
// back after a crash.
func (w *wal) cut(rotated bool) error {
	f := w.files[w.cur]
	if err := f.Truncate(w.off); err != nil {
		return fmt.Errorf("storage/bolt: write-ahead log: cut back to the last durable record: %w", err)
	}
	if rotated {
		if err := w.files[w.cur^1].Truncate(0); err != nil {
			return fmt.Errorf("storage/bolt: write-ahead log: cut back to the last durable record: %w", err)
		}
	}
	if w.noSync {
		return nil
	}
	for i, f := range w.files {
		if i != w.cur && !rotated {
			continue
		}
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("storage/bolt: write-ahead log: cut back to the last durable record: sync: %w", err)
		}
	}
	return nil
}

// fdatasync flushes f's data, and its size when that changed, but not its
// times: what a log needs, and cheaper than Sync's fsync.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// keepLogBytes is the largest log file retire leaves its size: the files
// of an ordinary run (a generation is at most 8,192 keys or 16 MiB) keep
// their blocks for the next run, one that an import of a whole state grew
// to tens of megabytes gives them back.
const keepLogBytes = 16 << 20

// retire writes over the first record of both files, so that the next
// Open reads nothing from them; Close calls it once every record is in
// bbolt. The files keep their blocks for the next run unless they grew
// past keepLogBytes.
func (w *wal) retire() error {
	var zero [walHeaderSize]byte
	for _, f := range w.files {
		if fi, err := f.Stat(); err == nil && fi.Size() > keepLogBytes {
			if err := f.Truncate(0); err != nil {
				return fmt.Errorf("storage/bolt: write-ahead log: %w", err)
			}
		}
		if _, err := f.WriteAt(zero[:], 0); err != nil {
			return fmt.Errorf("storage/bolt: write-ahead log: %w", err)
		}
		if w.noSync {
			continue
		}
		if err := fdatasync(f); err != nil {
			return fmt.Errorf("storage/bolt: write-ahead log: sync: %w", err)
		}
	}
	w.cur, w.off = 0, 0
	return nil
}

func (w *wal) close() error {
	var first error
	for _, f := range w.files {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// walRecord is one Update's writes, as read back from the log.
type walRecord struct {
	seq     uint64
	payload []byte
}

// readRecords returns the run of valid records at the start of f. A file
// that starts with a zero header, as retire leaves it, costs one small
// read: what every start after a clean stop pays.
func readRecords(f *os.File) ([]walRecord, error) {
	var head [walHeaderSize]byte
	if _, err := f.ReadAt(head[:], 0); err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("storage/bolt: read write-ahead log: %w", err)
	}
	if head == [walHeaderSize]byte{} {
		return nil, nil
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("storage/bolt: read write-ahead log: %w", err)
	}
	var recs []walRecord
	for {
		rec, seq, whole, sound := nextRecord(data)
		if !whole {
			break // torn, or the end
		}
		if !sound {
			// The end of the log, torn by a crash during its write, unless
			// the record after it is the one that should follow: then a
			// record in the middle is damaged and what follows would be
			// lost without a word.
			_, next, nextWhole, nextSound := nextRecord(data[len(rec):])
			if nextWhole && nextSound && next == seq+1 && (len(recs) == 0 || seq == recs[len(recs)-1].seq+1) {
				return nil, fmt.Errorf("%w: %s: record %d fails its checksum and record %d follows it", errWALDamaged, f.Name(), seq, next)
			}
			break
		}
		if len(recs) > 0 && seq != recs[len(recs)-1].seq+1 {
			break // an older generation's record
		}
		recs = append(recs, walRecord{seq: seq, payload: rec[walHeaderSize:]})
		data = data[len(rec):]
	}
	return recs, nil
}

// nextRecord reads the record at the start of data: whole says that its
// header and the payload length it gives fit in data, sound that its
// checksum holds as well.
func nextRecord(data []byte) (rec []byte, seq uint64, whole, sound bool) {
	if len(data) < walHeaderSize {
		return nil, 0, false, false
	}
	n := binary.LittleEndian.Uint32(data[4:8])
	if uint64(n) > uint64(len(data)-walHeaderSize) {
		return nil, 0, false, false
	}
	rec = data[:walHeaderSize+int(n)]
	seq = binary.LittleEndian.Uint64(rec[8:16])
	sound = crc32.Checksum(rec[4:], castagnoli) == binary.LittleEndian.Uint32(rec[0:4])
	return rec, seq, true, sound
}

// replayable returns the records of both files that come after applied,
// in order, and fails if they do not follow on from it without a gap: a
// record that was acknowledged would be missing. found says whether the
// files held any record at all, even ones bbolt already has.
func replayable(files [2]*os.File, applied uint64) (recs []walRecord, found bool, err error) {
	bySeq := map[uint64]walRecord{}
	var highest uint64
	for _, f := range files {
		fileRecs, err := readRecords(f)
		if err != nil {
			return nil, false, err
		}
		found = found || len(fileRecs) > 0
		for _, r := range fileRecs {
			if r.seq > applied {
				bySeq[r.seq] = r
				highest = max(highest, r.seq)
			}
		}
	}
	out := make([]walRecord, 0, len(bySeq))
	for seq := applied + 1; seq <= highest; seq++ {
		r, ok := bySeq[seq]
		if !ok {
			return nil, found, fmt.Errorf("%w: record %d is missing, record %d is there (bbolt has everything up to %d)", errWALDamaged, seq, highest, applied)
		}
		out = append(out, r)
	}
	return out, found, nil
}

// walOp is one decoded operation of a record.
type walOp struct {
	op       byte
	key, val []byte
}

// decodeOps calls fn for each operation in a record's payload.
func decodeOps(payload []byte, fn func(walOp) error) error {
	for len(payload) > 0 {
		var o walOp
		o.op = payload[0]
		payload = payload[1:]
		var ok bool
		if o.key, payload, ok = readBytes(payload); !ok {
			return fmt.Errorf("%w: a record's key is cut short", errWALDamaged)
		}
		switch o.op {
		case opPut:
			if o.val, payload, ok = readBytes(payload); !ok {
				return fmt.Errorf("%w: a record's value is cut short", errWALDamaged)
			}
		case opDelete:
		default:
			return fmt.Errorf("%w: unknown operation %d", errWALDamaged, o.op)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func readBytes(b []byte) (field, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// appendOp appends one operation to a record under construction.
func appendOp(buf []byte, op byte, key, val []byte) []byte {
	buf = append(buf, op)
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	if op == opPut {
		buf = binary.AppendUvarint(buf, uint64(len(val)))
		buf = append(buf, val...)
	}
	return buf
}

// sealRecord fills in the header of the record that starts at buf[start]
// and runs to the end of buf.
func sealRecord(buf []byte, start int, seq uint64) {
	rec := buf[start:]
	binary.LittleEndian.PutUint32(rec[4:8], uint32(len(rec)-walHeaderSize))
	binary.LittleEndian.PutUint64(rec[8:16], seq)
	binary.LittleEndian.PutUint32(rec[0:4], crc32.Checksum(rec[4:], castagnoli))
}
