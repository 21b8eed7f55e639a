package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticache-server/elasticache-server/storage"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// TestReadersAcrossFlushes reads from many goroutines while one writer's
// keys are flushed into bbolt over and over, each flush growing the file
// (and so bbolt's memory map, which waits for every open read
// transaction). Every read must see each key it looks for with its one
// value, whether its snapshot's layers sit over bbolt before or after a
// flush's commit, and no flush may wait for ever on a reader.
func TestReadersAcrossFlushes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.db")
	s := mustOpenTuned(t, path, bolt.Config{NoSync: true}, time.Hour, 1<<30)
	ctx := context.Background()
	value := bytes.Repeat([]byte("v"), 4096)
	key := func(i int) []byte { return fmt.Appendf(nil, "k/%06d", i) }

	var written atomic.Int64 // keys 0..written-1 are answered
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for r := range 8 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// A reader of the server reads the network between
				// Views; one that never blocks would keep the writer,
				// the syncer and the flusher off the two processors
				// for whole scheduler slices.
				runtime.Gosched()
				n := written.Load()
				if n == 0 {
					continue
				}
				k := key(int((int64(i*7919 + r)) % n))
				err := s.View(ctx, func(tx storage.Tx) error {
					v, err := tx.Get(k)
					if err != nil {
						return fmt.Errorf("Get(%s): %w", k, err)
					}
					if !bytes.Equal(v, value) {
						return fmt.Errorf("Get(%s): %d bytes, want the %d written", k, len(v), len(value))
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				reads.Add(1)
			}
		}()
	}

	// 40 rounds of 64 keys of 4 KiB: bbolt's file grows from 32 KiB past
	// 10 MiB, remapping several times.
	for round := range 40 {
		for i := range 64 {
			n := round*64 + i
			if err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put(key(n), value) }); err != nil {
				t.Fatalf("Put %d: %v", n, err)
			}
			written.Store(int64(n + 1))
		}
		done := make(chan bool, 1)
		go func() { done <- bolt.Flush(s) }()
		select {
		case ok := <-done:
			if !ok {
				t.Fatalf("round %d: Flush found nothing to do", round)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Flush still waiting after 30s: a reader's bbolt transaction was left open", round)
		}
	}
	close(stop)
	readers.Wait()
	if reads.Load() == 0 {
		t.Fatal("no reads ran")
	}
	if got := len(bboltContents(t, closeAndPath(t, s, path))); got != 40*64 {
		t.Fatalf("bbolt holds %d keys after the flushes, want %d", got, 40*64)
	}
}

// closeAndPath closes s and returns path, for bboltContents.
func closeAndPath(t *testing.T, s *bolt.Store, path string) string {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path
}

// TestPanickingViewLeavesNoTransaction panics inside Views and then needs
// a flush that grows the memory map: a View that left its bbolt read
// transaction open would make that flush, and Close, wait for ever.
func TestPanickingViewLeavesNoTransaction(t *testing.T) {
	t.Parallel()
	// Not closed by a cleanup: if a transaction leaked, Close would wait
	// for ever and hide this test's failure behind go test's timeout.
	s, err := bolt.OpenTuned(filepath.Join(t.TempDir(), "data.db"), bolt.Config{NoSync: true}, time.Hour, 1<<30)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	for range 3 {
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Errorf("recovered %v, want the View's panic", v)
				}
			}()
			_ = s.View(ctx, func(tx storage.Tx) error { panic("boom") })
		}()
	}
	value := bytes.Repeat([]byte("v"), 1<<20)
	for i := range 8 {
		if err := s.Update(ctx, func(tx storage.Tx) error { return tx.Put(fmt.Appendf(nil, "big/%d", i), value) }); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	done := make(chan error, 1)
	go func() {
		if !bolt.Flush(s) {
			done <- errors.New("Flush found nothing to do")
			return
		}
		done <- s.Close()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Flush and Close still waiting after 30s: a panicking View left its read transaction open")
	}
}
