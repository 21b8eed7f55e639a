package bolt_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// benchConfigs are group commit and one log write per Update, both with
// fsync on: the point is what group commit saves in fdatasyncs.
// updates/sync reports how many Updates shared each.
var benchConfigs = []struct {
	name string
	cfg  bolt.Config
}{
	{"Batch", bolt.Config{}},
	{"NoBatch", bolt.Config{NoBatch: true}},
}

// createOnce is a service-shaped Update: check that a record is absent,
// then write it.
func createOnce(s storage.Store, b *testing.B, key, value []byte) error {
	return s.Update(b.Context(), func(tx storage.Tx) error {
		if _, err := tx.Get(key); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("key %q exists or Get failed: %v", key, err)
		}
		return tx.Put(key, value)
	})
}

// BenchmarkUpdateParallel measures Updates from many concurrent writers,
// the load group commit is for. Run with -cpu 2: SetParallelism(8) then
// gives 16 writers.
func BenchmarkUpdateParallel(b *testing.B) { benchmarkUpdateParallel(b, 8) }

// BenchmarkUpdateFew is BenchmarkUpdateParallel with a quarter of the
// writers (4 at -cpu 2).
func BenchmarkUpdateFew(b *testing.B) { benchmarkUpdateParallel(b, 2) }

func benchmarkUpdateParallel(b *testing.B, parallelism int) {
	for _, bc := range benchConfigs {
		b.Run(bc.name, func(b *testing.B) {
			s := mustOpen(b, bc.cfg)
			value := bytes.Repeat([]byte("v"), 512)
			var writers atomic.Int64
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := writers.Add(1)
				for i := 0; pb.Next(); i++ {
					if err := createOnce(s, b, fmt.Appendf(nil, "bench/%03d/%09d", w, i), value); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/float64(bolt.Syncs(s)), "updates/sync")
		})
	}
}

// BenchmarkUpdateSerial measures one writer alone: an fdatasync per Update.
func BenchmarkUpdateSerial(b *testing.B) {
	for _, bc := range benchConfigs {
		b.Run(bc.name, func(b *testing.B) {
			s := mustOpen(b, bc.cfg)
			value := bytes.Repeat([]byte("v"), 512)
			i := 0
			for b.Loop() {
				if err := createOnce(s, b, fmt.Appendf(nil, "bench/%09d", i), value); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkViewParallel measures a read transaction that gets one key, the
// storage share of a describe by name, from 16 goroutines at -cpu 2.
func BenchmarkViewParallel(b *testing.B) {
	s := mustOpen(b, bolt.Config{NoSync: true})
	value := bytes.Repeat([]byte("v"), 150)
	for i := range 100 {
		if err := createOnce(s, b, fmt.Appendf(nil, "bench/%09d", i), value); err != nil {
			b.Fatal(err)
		}
	}
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := []byte("bench/000000042")
		for pb.Next() {
			err := s.View(b.Context(), func(tx storage.Tx) error {
				_, err := tx.Get(key)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
