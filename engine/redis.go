package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// redisOwned are the directives the runner sets itself, or that would take
// the node out of its hands (another address, directory or password, a
// renamed SHUTDOWN). A parameter group naming one of them is skipped.
// cluster-enabled is among them: a cache cluster is never in cluster mode
// on AWS either (a cluster-mode group is a replication group), and a
// cluster-mode redis without assigned slots answers no command.
var redisOwned = map[string]bool{
	"bind": true, "bind-source-addr": true, "port": true, "tls-port": true,
	"unixsocket": true, "unixsocketperm": true, "dir": true, "dbfilename": true,
	"appenddirname": true, "logfile": true, "syslog-enabled": true, "pidfile": true,
	"daemonize": true, "supervised": true, "protected-mode": true, "save": true,
	"maxmemory": true, "proc-title-template": true, "set-proc-title": true,
	"include": true, "cluster-enabled": true, "cluster-config-file": true,
	"cluster-port": true, "requirepass": true, "masterauth": true, "masteruser": true,
	"replicaof": true, "slaveof": true, "aclfile": true, "rename-command": true,
	"enable-protected-configs": true, "enable-debug-command": true,
	"enable-module-command": true, "loadmodule": true,
}

// redisDirective is one engine directive made from one or more ElastiCache
// parameters (the client-output-buffer-limit pieces make one).
type redisDirective struct {
	params []string // ElastiCache names, sorted
	name   string   // engine directive
	value  string
}

// outputBufferClasses maps the class word of ElastiCache's split
// client-output-buffer-limit-<class>-<piece> parameters to redis' class.
var outputBufferClasses = map[string]string{"normal": "normal", "replica": "replica", "slave": "replica", "pubsub": "pubsub"}

// outputBufferPieces are the three numbers of a class, in redis' order.
var outputBufferPieces = []string{"hard-limit", "soft-limit", "soft-seconds"}

// redisDirectives turns ElastiCache parameters into the directives the
// installed engine knows (known: CONFIG GET * of that binary, name ->
// default). apply are the parameters to turn; all are every parameter of
// the node, which supply the other pieces of a split parameter. Names the
// engine lacks or the runner owns are skipped and logged at debug.
func redisDirectives(ctx context.Context, log *slog.Logger, key string, apply, all map[string]string, known map[string]string) []redisDirective {
	var out []redisDirective
	touched := map[string][]string{} // redis class -> ElastiCache names
	for _, ecName := range sortedKeys(apply) {
		name := strings.ToLower(ecName)
		if class, ok := splitBufferParam(name); ok && hasKey(known, "client-output-buffer-limit") {
			touched[class] = append(touched[class], ecName)
			continue
		}
		switch {
		case redisOwned[name] || strings.HasPrefix(name, "tls-"):
			log.DebugContext(ctx, "engine: parameter skipped: the runner sets it", "node", key, "parameter", ecName)
			continue
		case !hasKey(known, name):
			log.DebugContext(ctx, "engine: parameter skipped: the installed engine does not know it", "node", key, "parameter", ecName)
			continue
		}
		out = append(out, redisDirective{params: []string{ecName}, name: name, value: redisValue(name, apply[ecName], known[name])})
	}
	if len(touched) > 0 {
		out = append(out, bufferDirective(touched, apply, all, known["client-output-buffer-limit"]))
	}
	return out
}

// bufferDirective makes one client-output-buffer-limit directive for every
// class touched (ElastiCache splits each class into three parameters;
// redis sets a class's three numbers at once): the given pieces, the
// node's other pieces, and the engine's defaults for the rest.
func bufferDirective(touched map[string][]string, apply, all map[string]string, defaults string) redisDirective {
	merged := map[string]string{}
	for k, v := range all {
		merged[strings.ToLower(k)] = v
	}
	for k, v := range apply {
		merged[strings.ToLower(k)] = v
	}
	def := parseBufferLimits(defaults)
	d := redisDirective{name: "client-output-buffer-limit"}
	var classes []string
	for _, cls := range []string{"normal", "replica", "pubsub"} {
		if len(touched[cls]) == 0 {
			continue
		}
		d.params = append(d.params, touched[cls]...)
		nums := def[cls]
		for i, piece := range outputBufferPieces {
			// Older families spell the replica class "slave"; the newer
			// spelling wins when a group has both.
			for _, word := range []string{"slave", "replica", "normal", "pubsub"} {
				if outputBufferClasses[word] != cls {
					continue
				}
				if v, ok := merged["client-output-buffer-limit-"+word+"-"+piece]; ok {
					nums[i] = strings.TrimSpace(v)
				}
			}
		}
		classes = append(classes, cls+" "+strings.Join(nums[:], " "))
	}
	sort.Strings(d.params)
	d.value = strings.Join(classes, " ")
	return d
}

// splitBufferParam tells the redis class of a split ElastiCache
// client-output-buffer-limit-<class>-<piece> parameter.
func splitBufferParam(name string) (class string, ok bool) {
	rest, ok := strings.CutPrefix(name, "client-output-buffer-limit-")
	if !ok {
		return "", false
	}
	for word, cls := range outputBufferClasses {
		if p, found := strings.CutPrefix(rest, word+"-"); found {
			for _, want := range outputBufferPieces {
				if p == want {
					return cls, true
				}
			}
		}
	}
	return "", false
}

// parseBufferLimits reads redis' "normal 0 0 0 slave 268435456 67108864 60
// pubsub 33554432 8388608 60" into numbers by class.
func parseBufferLimits(v string) map[string][3]string {
	out := map[string][3]string{"normal": {"0", "0", "0"}, "replica": {"0", "0", "0"}, "pubsub": {"0", "0", "0"}}
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		if cls, ok := outputBufferClasses[f[i]]; ok {
			out[cls] = [3]string{f[i+1], f[i+2], f[i+3]}
		}
	}
	return out
}

// redisValue maps an ElastiCache value to the engine's form. ElastiCache
// writes most values as redis does (yes/no, policy names, numbers); its
// documentation also shows on/off for booleans (appendonly "off") and
// appendfsync "off", which redis spells "no".
func redisValue(name, value, def string) string {
	v := strings.TrimSpace(value)
	if def == "yes" || def == "no" {
		switch strings.ToLower(v) {
		case "on", "true", "1", "yes":
			return "yes"
		case "off", "false", "0", "no":
			return "no"
		}
	}
	if name == "appendfsync" && strings.EqualFold(v, "off") {
		return "no"
	}
	return value
}

// redisArgs are redis-server's command-line directives for s.
// They are the runner's own, then directives (redisDirectives of the
// node's parameters) but those in skip (refused by the engine at an
// earlier start).
func redisArgs(s Spec, dir string, directives []redisDirective, skip map[string]bool) []string {
	args := []string{
		"--bind", s.Address,
		"--port", strconv.Itoa(s.Port),
		"--dir", dir,
		"--dbfilename", "dump.rdb",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--protected-mode", "no",
		"--maxmemory", strconv.FormatInt(s.MaxMemory, 10),
	}
	for _, d := range directives {
		if !skip[d.name] {
			args = append(args, "--"+d.name, d.value)
		}
	}
	return args
}

// probeRedis starts bin once on a unix socket in a temporary directory
// (no TCP port, so it cannot collide with anything) and returns CONFIG GET
// *: every directive the binary knows, aliases included, with defaults.
func probeRedis(ctx context.Context, bin string) (map[string]string, error) {
	tmp, err := os.MkdirTemp("", "engine-probe-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	sock := filepath.Join(tmp, "redis.sock")
	logf, err := os.Create(filepath.Join(tmp, "probe.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--dir", tmp,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no")
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("engine: probing %s: %w", bin, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	defer func() {
		select {
		case <-waited:
			return
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
	}()

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err = redisPing(pctx, "unix", sock, nil)
		pcancel()
		if err == nil {
			break
		}
		select {
		case <-waited:
			b, _ := os.ReadFile(filepath.Join(tmp, "probe.log"))
			return nil, fmt.Errorf("engine: probing %s: it exited: %s", bin, tail(string(b)))
		case <-ctx.Done():
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return nil, fmt.Errorf("engine: probing %s: no answer: %w", bin, errors.Join(ctx.Err(), err))
		case <-time.After(readyPoll):
		}
	}
	v, err := redisDo(ctx, "unix", sock, nil, "CONFIG", "GET", "*")
	// Stop it whatever CONFIG GET said; the deferred wait reaps it.
	_, _ = redisDo(ctx, "unix", sock, nil, "SHUTDOWN", "NOSAVE")
	if err != nil {
		return nil, fmt.Errorf("engine: probing %s: CONFIG GET *: %w", bin, err)
	}
	arr, ok := v.([]any)
	if !ok || len(arr)%2 != 0 {
		return nil, fmt.Errorf("engine: probing %s: CONFIG GET * answered %T", bin, v)
	}
	known := make(map[string]string, len(arr)/2)
	for i := 0; i < len(arr); i += 2 {
		k, _ := arr[i].(string)
		val, _ := arr[i+1].(string)
		known[strings.ToLower(k)] = val
	}
	return known, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// tail is the last lines of an engine log, for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	const max = 600
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}
