package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/internal/logwriter"
	"github.com/elasticache-server/elasticache-server/service"
	"github.com/elasticache-server/elasticache-server/storage/bolt"
)

// Whole requests through the handler: read the body, parse and decode the
// form, run the service on a bbolt store (without fsync: the disk's share
// is storage/bolt's benchmarks), encode the answer. What is left for a
// real request is net/http and the socket. Run with -cpu 2.

func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	return benchHandlerLogging(b, nil)
}

// benchHandlerLogging is benchHandler with the server's request log: log
// (nil: none) over a logwriter.Writer that discards.
func benchHandlerLogging(b *testing.B, log func(io.Writer, *slog.HandlerOptions) slog.Handler) http.Handler {
	b.Helper()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Config{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := service.Open(context.Background(), st, nil, service.Config{CacheSecurityGroupQuota: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	var logger *slog.Logger
	if log != nil {
		w := logwriter.New(io.Discard, logwriter.Config{})
		b.Cleanup(func() { w.Close() })
		logger = slog.New(log(w, nil))
	}
	return api.NewHandler(svc, api.HandlerConfig{Logger: logger})
}

// post sends one form and fails the benchmark unless it is answered 200.
func post(b *testing.B, h http.Handler, form string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", form, rec.Code, rec.Body)
	}
	return rec
}

func seed(b *testing.B, h http.Handler, n int) {
	b.Helper()
	for i := range n {
		post(b, h, fmt.Sprintf("Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=seed-%06d"+
			"&Description=bench+seed+group&Tags.Tag.1.Key=bench&Tags.Tag.1.Value=benchval", i))
	}
}

func BenchmarkHandlerCreate(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		post(b, h, fmt.Sprintf("Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=group-%09d&Description=bench+group", i))
		i++
	}
}

func BenchmarkHandlerDescribeByName(b *testing.B) {
	benchDescribeByName(b, benchHandler(b))
}

// BenchmarkHandlerDescribeByNameLogged is BenchmarkHandlerDescribeByName
// with the request log on, as the server runs by default.
func BenchmarkHandlerDescribeByNameLogged(b *testing.B) {
	text := func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewTextHandler(w, o) }
	json := func(w io.Writer, o *slog.HandlerOptions) slog.Handler { return slog.NewJSONHandler(w, o) }
	b.Run("text", func(b *testing.B) { benchDescribeByName(b, benchHandlerLogging(b, text)) })
	b.Run("json", func(b *testing.B) { benchDescribeByName(b, benchHandlerLogging(b, json)) })
}

func benchDescribeByName(b *testing.B, h http.Handler) {
	seed(b, h, 100)
	forms := make([]string, 100)
	for i := range forms {
		forms[i] = fmt.Sprintf("Action=DescribeCacheSecurityGroups&Version=2015-02-02&CacheSecurityGroupName=seed-%06d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		post(b, h, forms[i%100])
		i++
	}
}

func BenchmarkHandlerDescribePage(b *testing.B) {
	h := benchHandler(b)
	seed(b, h, 100)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = post(b, h, "Action=DescribeCacheSecurityGroups&Version=2015-02-02&MaxRecords=100").Body.Len()
	}
	b.SetBytes(int64(n))
}

func BenchmarkHandlerListTags(b *testing.B) {
	h := benchHandler(b)
	seed(b, h, 100)
	b.ReportAllocs()
	for b.Loop() {
		post(b, h, "Action=ListTagsForResource&Version=2015-02-02&ResourceName=arn%3Aaws%3Aelasticache%3Aus-east-1%3A000000000000%3Asecuritygroup%3Aseed-000042")
	}
}
