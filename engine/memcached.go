package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// memcachedFlag is how one ElastiCache memcached parameter becomes a
// command-line flag; kind checks the value so that a bad one fails here,
// with the parameter's name, rather than as a memcached usage message.
type memcachedFlag struct {
	flag string
	kind string // "int", "float", "bool" (flag present when true), "protocol", or "o" (-o name=int)
}

// memcachedFlags maps ElastiCache's memcached parameters to flags. Others
// (num_threads and max_cache_memory, which AWS derives from the node type
// and the runner from the Spec; AWS-side knobs such as
// memcached_connections_overhead) are skipped.
var memcachedFlags = map[string]memcachedFlag{
	"max_item_size":                {"-I", "int"},
	"chunk_size":                   {"-n", "int"},
	"max_simultaneous_connections": {"-c", "int"},
	"binding_protocol":             {"-B", "protocol"},
	"backlog_queue_limit":          {"-b", "int"},
	"cas_disabled":                 {"-C", "bool"},
	"chunk_size_growth_factor":     {"-f", "float"},
	"disable_flush_all":            {"-F", "bool"},
	"error_on_memory_exhausted":    {"-M", "bool"},
	"requests_per_event":           {"-R", "int"},
	"idle_timeout":                 {"idle_timeout", "o"},
}

// memcachedArgs are memcached's arguments for s. There is no -e (warm
// restart): the runner saves and loads the items itself (memcached_items.go).
func memcachedArgs(ctx context.Context, log *slog.Logger, s Spec) ([]string, error) {
	mib := s.MaxMemory >> 20
	switch {
	case s.MaxMemory == 0:
		mib = 64 // memcached's own default
	case mib < 1:
		mib = 1
	}
	args := []string{
		"-l", s.Address,
		"-p", strconv.Itoa(s.Port),
		"-U", "0",
		"-m", strconv.FormatInt(mib, 10),
		// memcached refuses to run as root without -u and ignores it
		// otherwise; the node runs as whoever runs the server.
		"-u", currentUser(),
	}
	for _, name := range sortedKeys(s.Params) {
		f, ok := memcachedFlags[strings.ToLower(name)]
		if !ok {
			log.DebugContext(ctx, "engine: parameter skipped: memcached has no flag for it", "node", s.Key, "parameter", name)
			continue
		}
		v := strings.TrimSpace(s.Params[name])
		bad := func() error {
			return fmt.Errorf("engine: memcached parameter %s has an invalid value %q", name, s.Params[name])
		}
		switch f.kind {
		case "int":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, bad()
			}
			if f.flag == "-c" {
				if limit := connectionLimit(); n > limit {
					// memcached raises its open-file limit to -c and
					// exits when it may not: ElastiCache's default
					// (65000) is above many hosts' hard limit.
					log.WarnContext(ctx, "engine: memcached connections capped at what the host's open-file limit allows",
						"node", s.Key, "parameter", name, "value", n, "cap", limit)
					v = strconv.FormatUint(limit, 10)
				}
			}
			args = append(args, f.flag, v)
		case "float":
			if x, err := strconv.ParseFloat(v, 64); err != nil || x <= 1 {
				return nil, bad()
			}
			args = append(args, f.flag, v)
		case "bool":
			on, ok := parseBool(v)
			if !ok {
				return nil, bad()
			}
			if on {
				args = append(args, f.flag)
			}
		case "protocol":
			if v != "auto" && v != "ascii" && v != "binary" {
				return nil, bad()
			}
			args = append(args, f.flag, v)
		case "o":
			if _, err := strconv.ParseUint(v, 10, 64); err != nil {
				return nil, bad()
			}
			args = append(args, "-o", f.flag+"="+v)
		}
	}
	return args, nil
}

// connectionLimit is the most connections memcached can be given here:
// the hard limit of open files (which it may raise its soft limit to, but
// not beyond), less what it keeps for itself.
func connectionLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max < 1024 {
		return 1024 - connectionHeadroom
	}
	return rl.Max - connectionHeadroom
}

// connectionHeadroom is what memcached's -c leaves of the open-file limit
// for its own files (listeners, the log).
const connectionHeadroom = 64

// parseBool reads ElastiCache's boolean spellings (memcached groups use
// 0/1, redis ones yes/no).
func parseBool(v string) (on, ok bool) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// currentUser names the user the server runs as, for memcached's -u.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}
