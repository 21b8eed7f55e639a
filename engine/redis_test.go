package engine

import (
	"bufio"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// known is a slice of what redis 7.0's CONFIG GET * answers.
var testKnown = map[string]string{
	"maxmemory-policy":           "noeviction",
	"appendonly":                 "no",
	"appendfsync":                "everysec",
	"activerehashing":            "yes",
	"timeout":                    "0",
	"databases":                  "16",
	"bind":                       "* -::*",
	"maxmemory":                  "0",
	"cluster-enabled":            "no",
	"tls-port":                   "0",
	"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
}

func TestRedisDirectives(t *testing.T) {
	t.Parallel()
	type d struct{ Params, Name, Value string }
	for _, tc := range []struct {
		name       string
		apply, all map[string]string
		want       []d
	}{
		{
			name:  "known names pass, ElastiCache-only and owned ones are skipped",
			apply: map[string]string{"maxmemory-policy": "allkeys-lru", "reserved-memory-percent": "25", "bind": "0.0.0.0", "maxmemory": "1", "cluster-enabled": "yes", "tls-port": "6380", "Timeout": "5"},
			want:  []d{{"Timeout", "timeout", "5"}, {"maxmemory-policy", "maxmemory-policy", "allkeys-lru"}},
		},
		{
			name:  "booleans in on/off and 1/0 spellings become yes/no; appendfsync off is no",
			apply: map[string]string{"appendonly": "off", "activerehashing": "1", "appendfsync": "off"},
			want:  []d{{"activerehashing", "activerehashing", "yes"}, {"appendfsync", "appendfsync", "no"}, {"appendonly", "appendonly", "no"}},
		},
		{
			name:  "non-boolean values pass untouched",
			apply: map[string]string{"databases": "1"},
			want:  []d{{"databases", "databases", "1"}},
		},
		{
			name:  "split output buffer limits make one directive, other pieces from the node, the rest from defaults",
			apply: map[string]string{"client-output-buffer-limit-pubsub-hard-limit": "100", "client-output-buffer-limit-normal-soft-seconds": "7"},
			all:   map[string]string{"client-output-buffer-limit-pubsub-soft-limit": "50", "client-output-buffer-limit-pubsub-hard-limit": "1"},
			want:  []d{{"client-output-buffer-limit-normal-soft-seconds,client-output-buffer-limit-pubsub-hard-limit", "client-output-buffer-limit", "normal 0 0 7 pubsub 100 50 60"}},
		},
		{
			name:  "the old slave spelling is the replica class",
			apply: map[string]string{"client-output-buffer-limit-slave-hard-limit": "9"},
			want:  []d{{"client-output-buffer-limit-slave-hard-limit", "client-output-buffer-limit", "replica 9 67108864 60"}},
		},
		{
			name:  "a malformed split name is unknown",
			apply: map[string]string{"client-output-buffer-limit-normal-hardest": "1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			all := tc.all
			if all == nil {
				all = tc.apply
			}
			var got []d
			for _, x := range redisDirectives(context.Background(), slog.New(slog.DiscardHandler), "k", tc.apply, all, testKnown) {
				got = append(got, d{strings.Join(x.params, ","), x.name, x.value})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("directives (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedisArgsCarryTheRunnersDirectivesFirst(t *testing.T) {
	t.Parallel()
	s := Spec{Key: "a/b", Engine: "redis", Address: "127.3.0.7", Port: 6379, MaxMemory: 1 << 20, Params: map[string]string{"timeout": "5", "port": "1"}}
	got := redisArgs(s, "/data/a/b", redisDirectives(context.Background(), slog.New(slog.DiscardHandler), s.Key, s.Params, s.Params, testKnown), nil)
	want := []string{"--bind", "127.3.0.7", "--port", "6379", "--dir", "/data/a/b", "--dbfilename", "dump.rdb",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no", "--maxmemory", "1048576",
		"--timeout", "5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("args (-want +got):\n%s", diff)
	}
}

func TestMemcachedArgs(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	s := Spec{Key: "a/b", Engine: "memcached", Address: "127.3.0.8", Port: 11211, MaxMemory: 200 << 20, Params: map[string]string{
		"max_item_size": "1048576", "chunk_size": "48", "max_simultaneous_connections": "900",
		"binding_protocol": "ascii", "backlog_queue_limit": "1024", "cas_disabled": "0",
		"chunk_size_growth_factor": "1.25", "idle_timeout": "30", "disable_flush_all": "1", "num_threads": "4",
	}}
	got, err := memcachedArgs(context.Background(), log, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-l", "127.3.0.8", "-p", "11211", "-U", "0", "-m", "200", "-u", currentUser(),
		"-b", "1024", "-B", "ascii", "-n", "48", "-f", "1.25", "-F", "-o", "idle_timeout=30", "-I", "1048576", "-c", "900"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("args (-want +got):\n%s", diff)
	}
	// Memory: 0 is memcached's 64 MiB; under a MiB is 1.
	for mem, want := range map[int64]string{0: "64", 1000: "1", 3 << 20: "3"} {
		s := Spec{Key: "a/b", Engine: "memcached", Address: "127.0.0.1", Port: 1, MaxMemory: mem}
		got, err := memcachedArgs(context.Background(), log, s)
		if err != nil || got[7] != want {
			t.Errorf("MaxMemory %d: -m %q (%v), want %s", mem, got[7], err, want)
		}
	}
	for name, v := range map[string]string{"chunk_size": "-1", "chunk_size_growth_factor": "1", "binding_protocol": "json", "cas_disabled": "maybe", "idle_timeout": "x"} {
		s := Spec{Key: "a/b", Engine: "memcached", Address: "127.0.0.1", Port: 1, Params: map[string]string{name: v}}
		if _, err := memcachedArgs(context.Background(), log, s); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming it", name, v, err)
		}
	}
}

func TestReadRESP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    any
		wantErr string
	}{
		{in: "+PONG\r\n", want: "PONG"},
		{in: ":42\r\n", want: int64(42)},
		{in: "$5\r\nhello\r\n", want: "hello"},
		{in: "$0\r\n\r\n", want: ""},
		{in: "$-1\r\n", want: nil},
		{in: "*2\r\n$1\r\na\r\n$0\r\n\r\n", want: []any{"a", ""}},
		{in: "-ERR immutable\r\n", wantErr: "ERR immutable"},
		{in: "?x\r\n", wantErr: "unknown reply type"},
		{in: "$99999999999\r\n", wantErr: "bad bulk length"},
		{in: "+PONG\n", wantErr: "malformed"},
		{in: strings.Repeat("*1\r\n", 20) + ":1\r\n", wantErr: "nested too deeply"},
		{in: "$5\r\nhel", wantErr: "EOF"},
	} {
		got, err := readRESP(bufio.NewReader(strings.NewReader(tc.in)), 0)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: %v, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestNamesListener(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		bin  string
		want bool
	}{
		{[]string{"/usr/bin/redis-server", "127.3.0.7:6379"}, "/usr/bin/redis-server", true},
		{[]string{"redis-server", "127.3.0.7:6379"}, "/usr/bin/redis-server", true},
		{[]string{"redis-server", "[::1]:6379"}, "/usr/bin/redis-server", false},
		{[]string{"redis-server", "127.3.0.7:6380"}, "/usr/bin/redis-server", false},
		{[]string{"valkey-server", "127.3.0.7:6379"}, "/usr/bin/redis-server", false},
		{[]string{"/usr/bin/memcached", "-l", "127.3.0.7", "-p", "6379", "-U", "0"}, "/usr/bin/memcached", true},
		{[]string{"/usr/bin/memcached", "-l", "127.3.0.7", "-p", "6380"}, "/usr/bin/memcached", false},
		{[]string{"/usr/bin/memcached", "-p", "6379"}, "/usr/bin/memcached", false},
		{nil, "/usr/bin/memcached", false},
	} {
		if got := namesListener(procInfo{args: tc.args}, tc.bin, "127.3.0.7", 6379); got != tc.want {
			t.Errorf("namesListener(%q, %s) = %v, want %v", tc.args, tc.bin, got, tc.want)
		}
	}
	if !namesListener(procInfo{args: []string{"redis-server", "[::1]:6379"}}, "redis-server", "::1", 6379) {
		t.Error("an IPv6 title is not recognised")
	}
}
