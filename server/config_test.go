package server

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Listen: "127.0.0.1:4566", DataDir: "./elasticache-data", DefaultAccount: "000000000000",
		DefaultRegion: "us-east-1", QuotaCacheSecurityGroups: 50, LogFormat: "text", LogLevel: slog.LevelInfo,
		ShutdownTimeout: 15 * time.Second, EventSweepInterval: time.Hour,
		Store: "bolt", EtcdPrefix: "/elasticache/", EtcdRequestTimeout: 5 * time.Second, Auth: AuthNone,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, Engines: EnginesAuto, ReconcileInterval: 5 * time.Second, LeaseTTL: 15 * time.Second}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults = %+v\nwant %+v", c, want)
	}
}

func TestParseConfigFlagBeatsEnvBeatsDefault(t *testing.T) {
	t.Parallel()
	e := env(map[string]string{
		"ELASTICACHE_LISTEN":                      "127.0.0.1:0",
		"ELASTICACHE_QUOTA_CACHE_SECURITY_GROUPS": "7",
		"ELASTICACHE_LOG_LEVEL":                   "debug",
		"ELASTICACHE_TRANSITION_DELAY":            "5s",
		"ELASTICACHE_CONFIG":                      "/etc/ec.yaml",
		"ELASTICACHE_READ_HEADER_TIMEOUT":         "2s",
		"ELASTICACHE_IDLE_TIMEOUT":                "3s",
	})
	c, err := ParseConfig([]string{"--quota-cache-security-groups", "9", "--log-format=json", "--idle-timeout=4s"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:0" || c.QuotaCacheSecurityGroups != 9 || c.LogFormat != "json" ||
		c.LogLevel != slog.LevelDebug || c.TransitionDelay != 5*time.Second || c.ConfigFile != "/etc/ec.yaml" ||
		c.ReadHeaderTimeout != 2*time.Second || c.IdleTimeout != 4*time.Second || c.ReadTimeout != 30*time.Second {
		t.Fatalf("config = %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad env value names the variable", nil, map[string]string{"ELASTICACHE_QUOTA_CACHE_SECURITY_GROUPS": "many"}, "ELASTICACHE_QUOTA_CACHE_SECURITY_GROUPS"},
		{"quota zero", []string{"--quota-cache-security-groups=0"}, nil, "at least 1"},
		{"node bind not an IP", []string{"--node-bind=cache.local"}, nil, "must be an IP address"},
		{"advertise without bind", []string{"--node-advertise=cache.local"}, nil, "needs --node-bind"},
		{"unspecified bind, no advertise", []string{"--node-bind=0.0.0.0"}, nil, "--node-advertise must say"},
		{"log format", []string{"--log-format=xml"}, nil, "text or json"},
		{"account", []string{"--default-account=123"}, nil, "12 digits"},
		{"region", []string{"--default-region=mars"}, nil, "region name"},
		{"negative delay", []string{"--transition-delay=-1s"}, nil, "negative"},
		{"negative user delay", []string{"--user-transition-delay=-1s"}, nil, "--user-transition-delay must not be negative"},
		{"stray argument", []string{"serve"}, nil, "unexpected argument"},
		{"unknown flag", []string{"--nope"}, nil, "not defined"},
		{"auth mode", []string{"--auth=iam"}, nil, "none or sigv4"},
		{"sigv4 without config", []string{"--auth=sigv4"}, nil, "needs --config"},
		{"tls cert alone", []string{"--tls-cert=c.pem"}, nil, "go together"},
		{"bad region list", []string{"--regions=us-east-1,mars"}, nil, "--regions"},
		{"pprof off loopback", []string{"--pprof-listen=0.0.0.0:6060"}, nil, "loopback"},
		{"zero header timeout", []string{"--read-header-timeout=0"}, nil, "--read-header-timeout must be positive"},
		{"negative read timeout", nil, map[string]string{"ELASTICACHE_READ_TIMEOUT": "-1s"}, "--read-timeout must be positive"},
		{"zero write timeout", []string{"--write-timeout=0s"}, nil, "--write-timeout must be positive"},
		{"zero idle timeout", []string{"--idle-timeout=0"}, nil, "--idle-timeout must be positive"},
		{"engines mode", []string{"--engines=docker"}, nil, "--engines must be auto or none"},
		{"zero reconcile interval", []string{"--reconcile-interval=0"}, nil, "--reconcile-interval must be positive"},
		{"server id with a slash", nil, map[string]string{"ELASTICACHE_SERVER_ID": "a/b"}, "--server-id must be"},
		{"lease shorter than a second", []string{"--lease-ttl=500ms"}, nil, "--lease-ttl must be at least 1s"},
		{"zero lease", nil, map[string]string{"ELASTICACHE_LEASE_TTL": "0s"}, "--lease-ttl must be at least 1s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig(tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := ParseConfig([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}

// --quota takes every kind's field and the node quotas, and nothing else.
func TestParseConfigQuotas(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig([]string{"--quota", "cacheClusters=1000", "--quota", "cacheNodes=2000", "--quota", "cacheNodesPerCluster=20"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Quotas["cacheClusters"] != 1000 || c.Quotas["cacheNodes"] != 2000 || c.Quotas["cacheNodesPerCluster"] != 20 {
		t.Fatalf("quotas = %v", c.Quotas)
	}
	if _, err := ParseConfig([]string{"--quota", "cacheWidgets=3"}, env(nil), io.Discard); err == nil {
		t.Fatal("--quota cacheWidgets=3 accepted")
	}
}
