package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/smithy-go"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
	"github.com/elasticache-server/elasticache-server/server"
)

const region = "us-east-1"

// syncBuffer collects a server's log, shown only when the test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// boltConfig is a server on a fresh data directory.
func boltConfig(tb testing.TB) server.Config {
	return server.Config{
		Listen:                   "127.0.0.1:0",
		DataDir:                  tb.TempDir(),
		Store:                    server.StoreBolt,
		DefaultAccount:           "000000000000",
		DefaultRegion:            region,
		QuotaCacheSecurityGroups: 50,
		LogFormat:                "text",
		LogLevel:                 slog.LevelInfo,
		ShutdownTimeout:          10 * time.Second,
		EventSweepInterval:       time.Hour,
	}
}

// etcdConfig is a server on cluster c under prefix: servers given the same
// prefix share one state.
func etcdConfig(tb testing.TB, c *etcdtest.Cluster, prefix string) server.Config {
	cfg := boltConfig(tb)
	cfg.Store = server.StoreEtcd
	cfg.EtcdEndpoints = strings.Join(c.Endpoints(), ",")
	cfg.EtcdPrefix = prefix
	cfg.EtcdRequestTimeout = 5 * time.Second
	return cfg
}

// startMain starts a server.Main with cfg on a free loopback port; it is
// closed when tb ends, and its log shown if tb failed.
func startMain(tb testing.TB, name string, cfg server.Config) *server.Main {
	tb.Helper()
	logs := &syncBuffer{}
	m := server.NewMain(cfg, cfg.NewLogger(logs))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		tb.Fatalf("open server %s: %v\nlog:\n%s", name, err, logs.String())
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			tb.Errorf("close server %s: %v", name, err)
		}
		if tb.Failed() {
			var errs []string
			for _, line := range strings.SplitAfter(logs.String(), "\n") {
				if strings.Contains(line, "level=ERROR") {
					errs = append(errs, line)
				}
			}
			tb.Logf("server %s log, errors:\n%s\nlast lines:\n%s", name, strings.Join(errs, ""), tail(logs.String(), 30))
		}
	})
	return m
}

func tail(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// newClient returns an ElastiCache client for the server at addr acting
// as account. It is hermetic (built from Options alone: no environment,
// shared config or instance metadata), never retries, and gives up on a
// request after timeout: the request's outcome is then unknown.
func newClient(tb testing.TB, addr, account string, timeout time.Duration) *elasticache.Client {
	tb.Helper()
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	tb.Cleanup(tr.CloseIdleConnections)
	creds := aws.Credentials{AccessKeyID: account, SecretAccessKey: "cluster-secret", Source: "cluster static credentials"}
	return elasticache.New(elasticache.Options{
		Region:       region,
		BaseEndpoint: aws.String("http://" + addr),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		HTTPClient: &http.Client{Transport: plainBodies{tr}, Timeout: timeout},
		Retryer:    aws.NopRetryer{},
	})
}

// plainBodies sends request bodies through their Read method only: see
// the e2e package's helper of the same name (smithy-go closes a body that
// net/http may still probe with WriteTo, which breaks the connection under
// the response on loopback).
type plainBodies struct{ rt http.RoundTripper }

func (p plainBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = readOnlyBody{r.Body}
	}
	return p.rt.RoundTrip(r)
}

type readOnlyBody struct{ rc io.ReadCloser }

func (b readOnlyBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readOnlyBody) Close() error               { return b.rc.Close() }

// create creates one group; the error is the client's.
func create(ctx context.Context, c *elasticache.Client, name string) error {
	_, err := c.CreateCacheSecurityGroup(ctx, &elasticache.CreateCacheSecurityGroupInput{
		CacheSecurityGroupName: aws.String(name),
		Description:            aws.String("group " + name),
	})
	return err
}

// mustCreate creates one group and fails tb if that fails.
func mustCreate(tb testing.TB, c *elasticache.Client, name string) {
	tb.Helper()
	if err := create(tb.Context(), c, name); err != nil {
		tb.Fatalf("create %s: %v", name, err)
	}
}

// describe describes one group by name.
func describe(ctx context.Context, c *elasticache.Client, name string) error {
	_, err := c.DescribeCacheSecurityGroups(ctx, &elasticache.DescribeCacheSecurityGroupsInput{
		CacheSecurityGroupName: aws.String(name),
	})
	return err
}

// listNames is every group the client's account has, through all pages,
// without "default".
func listNames(tb testing.TB, c *elasticache.Client) []string {
	tb.Helper()
	p := elasticache.NewDescribeCacheSecurityGroupsPaginator(c, &elasticache.DescribeCacheSecurityGroupsInput{MaxRecords: aws.Int32(100)})
	var names []string
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 1000 {
			tb.Fatal("describe: markers never end")
		}
		out, err := p.NextPage(tb.Context())
		if err != nil {
			tb.Fatalf("describe page %d: %v", pages+1, err)
		}
		for _, g := range out.CacheSecurityGroups {
			if n := aws.ToString(g.CacheSecurityGroupName); n != "default" {
				names = append(names, n)
			}
		}
	}
	return names
}

// outcome is what became of one request, as a client that does not retry
// sees it.
type outcome int

const (
	// answeredOK: HTTP 200.
	answeredOK outcome = iota
	// answeredUnavailable: ServiceUnavailable (503), retryable.
	answeredUnavailable
	// answeredOther: any other AWS error; its code says which.
	answeredOther
	// refused: the connection was refused, so the request was never sent.
	refused
	// unknown: no answer (timeout, connection lost): it may or may not
	// have been carried out.
	unknown
)

func (o outcome) String() string {
	return [...]string{"200", "503", "other error", "refused", "unknown"}[o]
}

// classify sorts a client error into an outcome; code is the AWS error
// code of an answer.
func classify(err error) (o outcome, code string) {
	if err == nil {
		return answeredOK, ""
	}
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if errors.As(err, &re) && errors.As(err, &ae) {
		if re.HTTPStatusCode() == http.StatusServiceUnavailable && ae.ErrorCode() == "ServiceUnavailable" {
			return answeredUnavailable, ae.ErrorCode()
		}
		return answeredOther, ae.ErrorCode()
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return refused, ""
	}
	return unknown, ""
}

// errCode is the AWS error code of err, or its text when it is no answer.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}
