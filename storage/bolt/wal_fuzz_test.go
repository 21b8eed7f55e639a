package bolt

import (
	"os"
	"path/filepath"
	"testing"
)

// record builds a log record of seq holding the given puts (key, value
// pairs), as Update writes it.
func record(seq uint64, kv ...string) []byte {
	buf := make([]byte, walHeaderSize)
	for i := 0; i+1 < len(kv); i += 2 {
		buf = appendOp(buf, opPut, []byte(kv[i]), []byte(kv[i+1]))
	}
	sealRecord(buf, 0, seq)
	return buf
}

// FuzzRecoverLog feeds arbitrary bytes to the log reader as the two files
// Open finds after a crash: it must never panic, and whatever it agrees to
// replay must be whole records that follow on from what bbolt has, each
// of which decodes or is refused with an error.
func FuzzRecoverLog(f *testing.F) {
	two := append(record(1, "a", "1"), record(2, "b", "2")...)
	f.Add(two, record(3, "c", "3"), uint64(0))
	f.Add(two, []byte{}, uint64(1))
	f.Add(two[:len(two)-3], []byte("garbage"), uint64(0))
	f.Add(append(record(7, "x", ""), record(3, "old", "")...), record(8, "y", "z"), uint64(6))
	f.Add(make([]byte, 64), make([]byte, 3), uint64(0))
	f.Fuzz(func(t *testing.T, wal0, wal1 []byte, applied uint64) {
		dir := t.TempDir()
		var files [2]*os.File
		for i, data := range [][]byte{wal0, wal1} {
			p := filepath.Join(dir, []string{"0", "1"}[i])
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			fh, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			files[i] = fh
		}
		recs, _, err := replayable(files, applied)
		if err != nil {
			return
		}
		for i, r := range recs {
			if r.seq != applied+uint64(i)+1 {
				t.Fatalf("record %d of the replay has number %d after %d applied", i, r.seq, applied)
			}
			_ = decodeOps(r.payload, func(o walOp) error {
				if o.op != opPut && o.op != opDelete {
					t.Fatalf("decoded operation %d", o.op)
				}
				return nil
			})
		}
	})
}
