package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/smithy-go"
)

// TestDiskFull fills the disk under a running server, as a user would: the
// data directory on a 2 MB tmpfs, creates until the disk is full. The
// create that finds it full is answered 503 ServiceUnavailable (which AWS
// clients retry), not 500; describes and /health go on answering; once
// space is freed, creates succeed again without a restart; and a restarted
// server has every group that was answered and none that was refused.
//
// It is about the bbolt file's disk, so it needs the embedded store;
// scripts/test.sh leaves it out of the etcd run by name.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	if etcdEndpoints != "" {
		t.Fatal("TestDiskFull fills the disk of the bbolt file and cannot run on etcd: leave it out of the E2E_STORE=etcd run with -skip, as scripts/test.sh does")
	}
	disk := mountTmpfs(t, "2m")
	// The filler is the space given back later: the test frees it while the
	// server runs, as a user deleting a file would. Half the disk: bbolt
	// copies every page a commit changes, so the flush of what the log took
	// meanwhile needs room beside the pages it replaces.
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatalf("write the filler file: %v", err)
	}
	dataDir := filepath.Join(disk, "data")
	const account = "777777777777"
	s := startServer(t, withDataDir(dataDir), withQuota(100_000))
	c := client(t, s.Addr, account, defaultRegion)
	description := strings.Repeat("a description long enough to fill a small disk quickly. ", 5)[:255]

	var answered []string
	refused := ""
	for i := 0; refused == ""; i++ {
		if i == 20_000 {
			t.Fatalf("%d creates answered and none refused: the 2 MB disk never filled", len(answered))
		}
		name := fmt.Sprintf("fill-%05d", i)
		_, err := c.CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: aws.String(name),
			Description:            aws.String(description),
		})
		if err == nil {
			answered = append(answered, name)
			continue
		}
		refused = name
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" {
			t.Fatalf("create %s on a full disk: %v, want ServiceUnavailable", name, err)
		}
		if problem := checkAPIErr(err, apiErr{status: http.StatusServiceUnavailable, code: "ServiceUnavailable"}); problem != nil {
			t.Fatalf("create %s on a full disk: %v\n  full error: %v", name, problem, err)
		}
	}
	t.Logf("%d creates answered before %s was refused", len(answered), refused)
	if len(answered) == 0 {
		t.Fatal("the first create was refused: the test needs the disk to fill under a working server")
	}
	want := append([]string{"default"}, answered...)

	// Reads go on from what was written, and the server does not report
	// itself unhealthy (which would get it restarted for nothing).
	g := describe(t, c, answered[len(answered)-1])
	if aws.ToString(g.Description) != description {
		t.Errorf("describe on a full disk: description %q", aws.ToString(g.Description))
	}
	wantNameSet(t, "groups listed on a full disk", listNamesBy(t, c, 100), want)
	_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{
		CacheSecurityGroupName: aws.String(refused),
	})
	wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(refused))
	wantHealth(t, s.Addr, http.StatusOK)

	// Space comes back: creates succeed at once, with no restart.
	if err := os.Remove(filler); err != nil {
		t.Fatalf("remove the filler file: %v", err)
	}
	for i := range 20 {
		name := fmt.Sprintf("after-%02d", i)
		create(t, c, name, description)
		want = append(want, name)
	}
	create(t, c, refused, "refused once, created now")
	want = append(want, refused)
	wantNameSet(t, "groups listed once space is back", listNamesBy(t, c, 100), want)

	if err := s.Close(); err != nil {
		t.Fatalf("close the server: %v", err)
	}
	second := startServer(t, withDataDir(dataDir), withQuota(100_000))
	c = client(t, second.Addr, account, defaultRegion)
	wantNameSet(t, "groups after a restart", listNamesBy(t, c, 100), want)
	if got := describe(t, c, refused); aws.ToString(got.Description) != "refused once, created now" {
		t.Errorf("%s after a restart: description %q, want the one of the create that was answered", refused, aws.ToString(got.Description))
	}
}

// mountTmpfs mounts a tmpfs of the given size on a new temp dir, unmounted
// at cleanup (registered first, so after the servers using it have
// closed), and returns the dir. It needs root, as the CI suite runs.
func mountTmpfs(tb testing.TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		tb.Fatalf("mount -t tmpfs -o size=%s on %s: %v: this test needs a small file system of its own to fill, and the permission to mount one (root, as the CI suite runs)", size, dir, err)
	}
	tb.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			tb.Errorf("unmount the tmpfs on %s: %v", dir, err)
		}
	})
	return dir
}

// listNamesBy is listNames at MaxRecords maxRecords.
func listNamesBy(tb testing.TB, c *elasticache.Client, maxRecords int32) []string {
	tb.Helper()
	return groupNames(listAll(tb, c, maxRecords))
}

// wantNameSet compares two lists of group names as sets.
func wantNameSet(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	wantNames(tb, what, got, want)
}

// wantHealth checks the answer of GET /health.
func wantHealth(tb testing.TB, addr string, status int) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, "http://"+addr+"/health", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := (&http.Client{Transport: newTransport(tb)}).Do(req)
	if err != nil {
		tb.Fatalf("GET /health: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != status {
		tb.Errorf("GET /health: HTTP %d, want %d", resp.StatusCode, status)
	}
}
