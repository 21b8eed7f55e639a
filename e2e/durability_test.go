package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/server"
)

// TestRestart closes a server and opens a new one on the same data
// directory: every answered write is there, deletes included, and a marker
// issued before the restart still works.
func TestRestart(t *testing.T) {
	t.Parallel()
	first := startServer(t)
	c := client(t, first.Addr, "111111111111", "eu-central-1")
	var names []string
	for i := range 25 {
		names = append(names, "kept-"+pad2(i))
	}
	createAll(t, c, names)
	g := create(t, c, "Described", `<&> é 日本`, types.Tag{Key: aws.String("k"), Value: aws.String("v")})
	create(t, c, "deleted", "gone before the restart")
	if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("deleted"),
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	page1, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
		MaxRecords: aws.Int32(20),
	})
	if err != nil {
		t.Fatalf("describe first page: %v", err)
	}
	if page1.Marker == nil {
		t.Fatalf("first page of 27 groups has no Marker")
	}
	want := listNames(t, c)
	if err := first.Close(); err != nil {
		t.Fatalf("close the first server: %v", err)
	}

	second := startServer(t, withDataDir(first.DataDir), withQuota(26))
	c = client(t, second.Addr, "111111111111", "eu-central-1")

	t.Run("groups survive", func(t *testing.T) {
		wantNames(t, "groups after the restart", listNames(t, c), want)
		if len(want) != 27 { // 25 + described + default
			t.Errorf("before the restart: %d groups, want 27: %v", len(want), want)
		}
		got := describe(t, c, "DESCRIBED")
		if diff := cmp.Diff(*g, got, groupCmp...); diff != "" {
			t.Errorf("group after the restart (-before +after):\n%s", diff)
		}
		_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			CacheSecurityGroupName: aws.String("deleted"),
		})
		wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound("deleted"))
	})

	t.Run("the quota count survives", func(t *testing.T) {
		// 26 groups stored, and the second server's quota is 26.
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String("one-too-many"),
			Description:            aws.String("d"),
		})
		wantErr[*types.CacheSecurityGroupQuotaExceededFault](t, err, quotaExceeded)
	})

	t.Run("a marker from before the restart", func(t *testing.T) {
		out, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
			MaxRecords: aws.Int32(20),
			Marker:     page1.Marker,
		})
		if err != nil {
			t.Fatalf("describe with the old marker: %v", err)
		}
		wantNames(t, "second page", groupNames(append(page1.CacheSecurityGroups, out.CacheSecurityGroups...)), want)
		if out.Marker != nil {
			t.Errorf("last page has Marker %q", *out.Marker)
		}
	})
}

// TestAnsweredWritesAreOnDisk copies the data directory of a running server
// right after its answers, as a crash would leave it, and opens a server on
// the copy: every answered create and delete is there. (Whether the bytes
// also reached the disk through fsync only kill -9 of a process, in the
// boto3/CLI suite, can tell.)
func TestAnsweredWritesAreOnDisk(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := client(t, s.Addr, "666666666666", defaultRegion)
	var names []string
	for i := range 12 {
		names = append(names, "answered-"+pad2(i))
	}
	createAll(t, c, names)
	if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String("answered-00"),
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	want := listNames(t, c)

	copied := t.TempDir()
	entries, err := os.ReadDir(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.DataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copied, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	other := startServer(t, withDataDir(copied))
	wantNames(t, "groups on the copy", listNames(t, client(t, other.Addr, "666666666666", defaultRegion)), want)
}

// TestDataDirInUse opens a second server on the data directory of a running
// one: Open must fail at once, naming the data directory, and the first
// server must keep serving.
func TestDataDirInUse(t *testing.T) {
	t.Parallel()
	first := startServer(t)
	c := client(t, first.Addr, otherKey, defaultRegion)
	create(t, c, "before", "d")

	cfg := testConfig(t)
	cfg.DataDir = first.DataDir
	logs := &syncBuffer{}
	second := server.NewMain(cfg, cfg.NewLogger(logs))
	second.Clock = newFixedClock()
	opened := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := second.Open(ctx)
		if err == nil {
			// Not expected; never leave a second server running.
			cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer ccancel()
			_ = second.Close(cctx)
		}
		opened <- err
	}()
	start := time.Now()
	select {
	case err := <-opened:
		if err == nil {
			t.Fatalf("second Open on %s succeeded, want an error", cfg.DataDir)
		}
		if !strings.Contains(err.Error(), "data directory") {
			t.Errorf("second Open: %v; want the error to mention the data directory", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("second Open took %v to fail", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("second Open on %s still blocked after 5s, want it to fail at once", cfg.DataDir)
	}

	// The first server is unharmed.
	create(t, c, "after", "d")
	wantNames(t, "groups", listNames(t, c), []string{"after", "before", "default"})
}
