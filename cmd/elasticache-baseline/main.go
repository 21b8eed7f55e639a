// Command elasticache-baseline is the reference scripts/bench.sh measures
// elasticache-server against: the least a Go server can do for the same
// requests. It reads the body, parses the form and answers a fixed body of
// the size the real server answers; with -data-dir it also does one
// fsynced bbolt put per write request, one transaction each, no batching:
// the disk's share of a create. It is its own small binary so that its
// start-up time is that of a minimal Go server (elasticache-bench links the
// AWS SDK and the etcd client). See docs/PERFORMANCE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	bbolt "go.etcd.io/bbolt"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/internal/awsquery"
	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4567", "address to listen on (loopback only)")
	dataDir := flag.String("data-dir", "", "when set, every write request also does one fsynced bbolt put in DIR/baseline.db")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*listen); err != nil || (host != "localhost" && !net.ParseIP(host).IsLoopback()) {
		fmt.Fprintf(os.Stderr, "elasticache-baseline: -listen %q: only loopback addresses are allowed\n", *listen)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := serveBaseline(ctx, *listen, *dataDir, func(addr string) {
		fmt.Println("baseline listening on", addr)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "elasticache-baseline:", err)
		os.Exit(1)
	}
}

// baselineBodies are the fixed answers, by action. They are encoded by the
// server's own encoder from the values the real server returns for the
// generator's requests (internal/benchworkload), so their sizes match its answers;
// the smoke test checks that they do.
type baselineBodies struct {
	create, describe, page, delete, tagAdd, tagList, unknown []byte
}

func newBaselineBodies() (*baselineBodies, error) {
	group := func(name, desc string) api.CacheSecurityGroup {
		return api.CacheSecurityGroup{
			ARN:                    ptr(benchworkload.GroupARN(benchworkload.DefaultAccount, name)),
			CacheSecurityGroupName: ptr(name),
			Description:            ptr(desc),
			EC2SecurityGroups:      []api.EC2SecurityGroup{},
			OwnerId:                ptr(benchworkload.DefaultAccount),
		}
	}
	encode := func(action, wrapper string, out any) ([]byte, error) {
		return awsquery.AppendResponse(nil, api.Namespace, action, wrapper, out, benchworkload.RequestIDSample)
	}
	var b baselineBodies
	var err error
	created := group(benchworkload.CreateName("000000", 0, 0), benchworkload.CreateDescription)
	if b.create, err = encode("CreateCacheSecurityGroup", "CreateCacheSecurityGroupResult",
		&api.CreateCacheSecurityGroupOutput{CacheSecurityGroup: &created}); err != nil {
		return nil, err
	}
	if b.describe, err = encode("DescribeCacheSecurityGroups", "DescribeCacheSecurityGroupsResult",
		&api.DescribeCacheSecurityGroupsOutput{CacheSecurityGroups: []api.CacheSecurityGroup{group(benchworkload.SeedName(0), benchworkload.SeedDescription)}}); err != nil {
		return nil, err
	}
	// The first page of 100: `default`, then seeds 0–98, and a marker: the
	// base64 of a 16-byte MAC and the last name.
	page := []api.CacheSecurityGroup{group("default", "default")}
	for i := range 99 {
		page = append(page, group(benchworkload.SeedName(i), benchworkload.SeedDescription))
	}
	marker := strings.Repeat("M", base64Len(16+len(benchworkload.SeedName(98))))
	if b.page, err = encode("DescribeCacheSecurityGroups", "DescribeCacheSecurityGroupsResult",
		&api.DescribeCacheSecurityGroupsOutput{CacheSecurityGroups: page, Marker: &marker}); err != nil {
		return nil, err
	}
	if b.delete, err = encode("DeleteCacheSecurityGroup", "", nil); err != nil {
		return nil, err
	}
	tags := []api.Tag{{Key: ptr(benchworkload.TagKey), Value: ptr(benchworkload.TagValue)}}
	if b.tagAdd, err = encode("AddTagsToResource", "AddTagsToResourceResult", &api.AddTagsToResourceOutput{TagList: tags}); err != nil {
		return nil, err
	}
	if b.tagList, err = encode("ListTagsForResource", "ListTagsForResourceResult", &api.ListTagsForResourceOutput{TagList: tags}); err != nil {
		return nil, err
	}
	b.unknown = awsquery.AppendError(nil, api.Namespace, true, "InvalidAction", "The action is not valid for this web service.", benchworkload.RequestIDSample)
	return &b, nil
}

// base64Len is the length of n bytes in unpadded base64.
func base64Len(n int) int { return (n*8 + 5) / 6 }

func ptr[T any](v T) *T { return &v }

// body picks the answer for a parsed request; write reports an action that
// changes state.
func (b *baselineBodies) body(f awsquery.Form) (body []byte, status int, write bool) {
	switch f["Action"] {
	case "CreateCacheSecurityGroup":
		return b.create, 200, true
	case "DescribeCacheSecurityGroups":
		if _, ok := f["CacheSecurityGroupName"]; ok {
			return b.describe, 200, false
		}
		return b.page, 200, false
	case "DeleteCacheSecurityGroup":
		return b.delete, 200, true
	case "AddTagsToResource":
		return b.tagAdd, 200, true
	case "ListTagsForResource":
		return b.tagList, 200, false
	}
	return b.unknown, 400, false
}

// baseline is the baseline server's handler.
type baseline struct {
	bodies *baselineBodies
	db     *bbolt.DB // nil: no storage
}

var baselineBucket = []byte("baseline")

// newBaseline returns the handler; with a dataDir, every write request
// also puts its body in a bbolt file there, fsynced, one transaction each.
func newBaseline(dataDir string) (*baseline, error) {
	bodies, err := newBaselineBodies()
	if err != nil {
		return nil, err
	}
	h := &baseline{bodies: bodies}
	if dataDir != "" {
		db, err := bbolt.Open(filepath.Join(dataDir, "baseline.db"), 0o600, nil)
		if err != nil {
			return nil, err
		}
		if err := db.Update(func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(baselineBucket)
			return err
		}); err != nil {
			db.Close()
			return nil, err
		}
		h.db = db
	}
	return h, nil
}

func (h *baseline) close() error {
	if h.db != nil {
		return h.db.Close()
	}
	return nil
}

func (h *baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength < 0 || r.ContentLength > 1<<20 {
		http.Error(w, "need a Content-Length up to 1 MiB", http.StatusBadRequest)
		return
	}
	raw := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, raw); err != nil {
		return
	}
	f, err := awsquery.ParseForm(string(raw))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, status, write := h.bodies.body(f)
	if write && h.db != nil {
		key := f["CacheSecurityGroupName"] + f["ResourceName"]
		err := h.db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(baselineBucket).Put([]byte(key), raw)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{"text/xml"}
	hdr["X-Amzn-Requestid"] = []string{benchworkload.RequestIDSample}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// serveBaseline serves the baseline on listen until ctx ends. ready, when
// not nil, receives the bound address.
func serveBaseline(ctx context.Context, listen, dataDir string, ready func(addr string)) error {
	h, err := newBaseline(dataDir)
	if err != nil {
		return err
	}
	defer h.close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if ready != nil {
		ready(ln.Addr().String())
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
