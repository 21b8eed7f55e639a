package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/sigv4"
)

// Config is everything the server is started with. Each setting comes from
// its flag, else its environment variable (ELASTICACHE_ + the flag name in
// upper snake case), else its default.
type Config struct {
	Listen  string
	DataDir string
	// Store is the backend: bolt (the embedded file in DataDir) or etcd.
	// EtcdEndpoints (comma-separated host:port), EtcdPrefix (put before
	// every key), the TLS files EtcdCert, EtcdKey and EtcdCA, and
	// EtcdRequestTimeout (one request to etcd) configure etcd.
	Store                    string
	EtcdEndpoints            string
	EtcdPrefix               string
	EtcdCert                 string
	EtcdKey                  string
	EtcdCA                   string
	EtcdRequestTimeout       time.Duration
	DefaultAccount           string
	DefaultRegion            string
	QuotaCacheSecurityGroups int
	// Quotas are --quota NAME=N, by the kind's field name
	// (cacheSecurityGroups, cacheSubnetGroups): per account and region,
	// for every account the config file does not say otherwise of.
	Quotas          map[string]int
	LogFormat       string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	TransitionDelay time.Duration
	// UserTransitionDelay is how long users and user groups stay
	// creating or modifying.
	UserTransitionDelay time.Duration
	EventSweepInterval  time.Duration
	ConfigFile          string
	ShowVersion         bool
	// PprofListen, when set, serves net/http/pprof on this loopback
	// address, for profiling under load; empty (the default) means off.
	PprofListen string
	// Auth is how callers are identified: AuthNone reads the access key and
	// region without checking anything; AuthSigV4 verifies Signature
	// Version 4 against the credentials of the config file.
	Auth string
	// Regions, when set, is the comma-separated list of regions served;
	// requests scoped to any other are refused. Empty serves every region
	// of AWS's form.
	Regions string
	// TLSCert and TLSKey, when both set, make the server speak HTTPS.
	TLSCert, TLSKey string
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// http.Server's: they cut off slow and idle clients. Zero (a Config
	// built directly) means ParseConfig's default.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// MetricsToken, when set, makes GET /metrics require the header
	// "Authorization: Bearer <MetricsToken>". /health never needs one.
	MetricsToken string
	// Admin turns on the admin API under /_admin/ (reset, state export and
	// import, the request journal, fault injection). AdminToken, when set,
	// is the bearer token it requires; with --auth sigv4 it must be set.
	Admin      bool
	AdminToken string
	// Seed, when set, is a state document (the format of export) imported
	// at start if, and only if, the store holds no resources.
	Seed string
	// Engines is how cache clusters run: EnginesAuto (the default; "" too)
	// starts a real engine process per node, EnginesNone runs the control
	// plane only: clusters become available with no process behind their
	// endpoints.
	Engines string
	// EngineDir holds the engines' data directories and pid files and the
	// server's ID; empty is DataDir/engines.
	EngineDir string
	// NodeBind, when set, is the address every cache node's engine
	// listens on (0.0.0.0, or one of the host's addresses), each on a port
	// of its own from its cluster's port upwards; NodeAdvertise is then
	// the host name or address endpoints give clients (required when
	// NodeBind is unspecified, 0.0.0.0 or ::). Empty: on Linux every node
	// its own loopback address with the cluster's port, reachable from
	// this host only.
	NodeBind      string
	NodeAdvertise string
	// ReconcileInterval is the time between the reconciler's full passes
	// over every cluster; 0 is 5 s.
	ReconcileInterval time.Duration
	// ServerID names this server as the owner of the cache nodes it runs;
	// empty is the ID kept in EngineDir (made at the first start).
	ServerID string
	// LeaseTTL is how long this server's lease on its cache nodes lasts
	// in the store unless renewed (every third of it): servers sharing
	// the store take the nodes of a server over once its lease has been
	// expired for a third of it more. 0 is 15 s.
	LeaseTTL time.Duration
}

// The values of --engines.
const (
	EnginesAuto = "auto"
	EnginesNone = "none"
)

// enginesMode is --engines with the zero value's meaning spelled out.
func (c Config) enginesMode() string {
	if c.Engines == "" {
		return EnginesAuto
	}
	return c.Engines
}

// engineDir is --engine-dir, or its default under --data-dir.
func (c Config) engineDir() string {
	if c.EngineDir != "" {
		return c.EngineDir
	}
	return filepath.Join(c.DataDir, "engines")
}

// The defaults of the HTTP timeouts, also used for their zero values.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultWriteTimeout      = 60 * time.Second
	defaultIdleTimeout       = 120 * time.Second
)

// orDefault is d when it is set, else def.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// The values of --auth.
const (
	AuthNone  = "none"
	AuthSigV4 = "sigv4"
)

// authName is --auth with the zero value's meaning spelled out.
func (c Config) authName() string {
	if c.Auth == "" {
		return AuthNone
	}
	return c.Auth
}

// regionList returns the served regions, nil for all.
func (c Config) regionList() []string {
	if c.Regions == "" {
		return nil
	}
	var out []string
	for _, r := range strings.Split(c.Regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// envName is the environment variable that sets a flag.
func envName(flagName string) string {
	return "ELASTICACHE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ProgramName is the binary's name, as help, usage and error messages say it.
const ProgramName = "elasticache-server"

// ParseConfig reads flags from args and environment variables through
// getenv. Help goes to out. It returns flag.ErrHelp for -h.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	var c Config
	name := ProgramName
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:4566", "address to listen on (host:port; port 0 picks a free port)")
	fs.StringVar(&c.DataDir, "data-dir", "./elasticache-data", "directory of the embedded store")
	fs.StringVar(&c.Store, "store", StoreBolt, "storage backend: bolt (embedded file in --data-dir) or etcd (see --etcd-endpoints)")
	fs.StringVar(&c.EtcdEndpoints, "etcd-endpoints", "", "client addresses of the etcd members, host:port,... (--store etcd)")
	fs.StringVar(&c.EtcdPrefix, "etcd-prefix", "/elasticache/", "prefix of every etcd key: servers with the same prefix share one state")
	fs.StringVar(&c.EtcdCert, "etcd-cert", "", "client certificate (PEM file) for TLS to etcd")
	fs.StringVar(&c.EtcdKey, "etcd-key", "", "private key (PEM file) of --etcd-cert")
	fs.StringVar(&c.EtcdCA, "etcd-ca", "", "CA certificates (PEM file) to verify the etcd members with")
	fs.DurationVar(&c.EtcdRequestTimeout, "etcd-request-timeout", 5*time.Second, "how long one request to etcd may take before the API answers ServiceUnavailable")
	fs.StringVar(&c.DefaultAccount, "default-account", "000000000000", "account of requests whose access key is not a 12-digit account ID")
	fs.StringVar(&c.DefaultRegion, "default-region", "us-east-1", "region of requests without a signature scope")
	fs.IntVar(&c.QuotaCacheSecurityGroups, "quota-cache-security-groups", 50, "cache security groups per account and region, default not counted (the same as --quota cacheSecurityGroups=N, which wins)")
	fs.Func("quota", "a quota per account and region, NAME=N, repeatable; NAME is one of "+strings.Join(quotaNames(), ", "), func(v string) error {
		name, n, ok := strings.Cut(v, "=")
		if !ok || !knownQuota(name) {
			return fmt.Errorf("want NAME=N with NAME one of %s", strings.Join(quotaNames(), ", "))
		}
		q, err := strconv.Atoi(n)
		if err != nil || q < 1 {
			return fmt.Errorf("%s: want a whole number of at least 1", name)
		}
		if c.Quotas == nil {
			c.Quotas = map[string]int{}
		}
		c.Quotas[name] = q
		return nil
	})
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&c.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long SIGTERM waits for in-flight requests")
	fs.DurationVar(&c.TransitionDelay, "transition-delay", 0, "how long EC2 security group entries stay authorizing/revoking (0: the answer shows the transitional state, the next read the final one)")
	fs.DurationVar(&c.UserTransitionDelay, "user-transition-delay", 0, "how long users and user groups stay creating/modifying (0: the answer shows the transitional state, the next read active)")
	fs.DurationVar(&c.EventSweepInterval, "event-sweep-interval", time.Hour, "how often events older than 14 days are removed from storage")
	fs.StringVar(&c.ConfigFile, "config", "", "YAML file with per-account settings (see README)")
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&c.Auth, "auth", AuthNone, "authentication: none (the access key names the account, nothing is verified) or sigv4 (verify signatures against the credentials in --config)")
	fs.StringVar(&c.Regions, "regions", "", "comma-separated regions to serve, e.g. us-east-1,eu-west-1; empty: every region")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "certificate (PEM file) to serve HTTPS with, together with --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "private key (PEM file) of --tls-cert")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "how long a client may take to send a request's headers")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", defaultReadTimeout, "how long a client may take to send a whole request, headers and body")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", defaultWriteTimeout, "how long serving and answering one request may take, from the end of its headers")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", defaultIdleTimeout, "how long a keep-alive connection may wait for its next request")
	fs.StringVar(&c.PprofListen, "pprof-listen", "", "serve net/http/pprof on this loopback address (host:port), for profiling; empty: off")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "bearer token GET /metrics requires; empty: /metrics is open")
	fs.BoolVar(&c.Admin, "admin", false, "serve the admin API under /_admin/ (reset, state, request journal, fault injection)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer token the admin API requires (needed with --auth sigv4)")
	fs.StringVar(&c.Seed, "seed", "", "state document (as written by export) to import at start when the store is empty")
	fs.StringVar(&c.Engines, "engines", EnginesAuto, "how cache clusters run: auto (a redis-server, valkey-server or memcached process per node) or none (control plane only: clusters become available with no process; their endpoints do not answer)")
	fs.StringVar(&c.EngineDir, "engine-dir", "", "directory of the engines' data, pid files and the server ID (default <data-dir>/engines)")
	fs.StringVar(&c.NodeBind, "node-bind", "", "address every cache node listens on, each on a port of its own from its cluster's port up (0.0.0.0 or one of this host's addresses, for clients on other machines); empty: every node its own loopback address on the cluster's port (Linux)")
	fs.StringVar(&c.NodeAdvertise, "node-advertise", "", "host name or address that cache node endpoints give clients, with --node-bind (default: the --node-bind address; required when that is 0.0.0.0 or ::)")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", 5*time.Second, "how often every cluster's engines are compared with its record (changes start at once regardless)")
	fs.StringVar(&c.ServerID, "server-id", "", "this server's name as the owner of the cache nodes it runs (default: a random ID kept in --engine-dir)")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", 15*time.Second, "how long this server's lease on its cache nodes lasts unless renewed (every third of it); servers sharing the store take its nodes over (fresh, on new addresses) once it has not renewed for the lease and a third more")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s [flags]\n\nEvery flag can also be set by its environment variable, e.g. %s.\n\n", name, envName("listen"))
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return c, err
	}
	return c, c.validate()
}

// parseFlags parses args into fs, refuses positional arguments, and then
// sets every flag not given on the command line from its environment
// variable, when that is set: a flag beats its variable, which beats the
// default.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

func (c Config) validate() error {
	if err := c.validateStore(); err != nil {
		return err
	}
	switch {
	case c.LogFormat != "text" && c.LogFormat != "json":
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	case c.QuotaCacheSecurityGroups < 1:
		return fmt.Errorf("--quota-cache-security-groups must be at least 1")
	case !api.IsAccountID(c.DefaultAccount):
		return fmt.Errorf("--default-account must be 12 digits, not %q", c.DefaultAccount)
	case !sigv4.IsRegion(c.DefaultRegion):
		return fmt.Errorf("--default-region must be a region name such as us-east-1, not %q", c.DefaultRegion)
	case c.DataDir == "":
		return fmt.Errorf("--data-dir must not be empty")
	case !validRegions(c.regionList()):
		return fmt.Errorf("--regions must list region names such as us-east-1,eu-west-1, not %q", c.Regions)
	case c.TransitionDelay < 0:
		return fmt.Errorf("--transition-delay must not be negative")
	case c.UserTransitionDelay < 0:
		return fmt.Errorf("--user-transition-delay must not be negative")
	case c.EventSweepInterval <= 0:
		return fmt.Errorf("--event-sweep-interval must be positive")
	case c.ReadHeaderTimeout <= 0:
		return fmt.Errorf("--read-header-timeout must be positive")
	case c.ReadTimeout <= 0:
		return fmt.Errorf("--read-timeout must be positive")
	case c.WriteTimeout <= 0:
		return fmt.Errorf("--write-timeout must be positive")
	case c.IdleTimeout <= 0:
		return fmt.Errorf("--idle-timeout must be positive")
	case c.Auth != AuthNone && c.Auth != AuthSigV4:
		return fmt.Errorf("--auth must be none or sigv4, not %q", c.Auth)
	case c.Auth == AuthSigV4 && c.ConfigFile == "":
		return fmt.Errorf("--auth sigv4 needs --config with the accounts' credentials")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("--tls-cert and --tls-key go together")
	case c.Admin && c.Auth == AuthSigV4 && c.AdminToken == "":
		return fmt.Errorf("--admin with --auth sigv4 needs --admin-token: the admin API can erase every account")
	case c.AdminToken != "" && !c.Admin:
		return fmt.Errorf("--admin-token is set but --admin is not")
	case c.Engines != "" && c.Engines != EnginesAuto && c.Engines != EnginesNone:
		return fmt.Errorf("--engines must be auto or none, not %q", c.Engines)
	case c.NodeBind != "" && net.ParseIP(c.NodeBind) == nil:
		return fmt.Errorf("--node-bind must be an IP address, not %q", c.NodeBind)
	case c.NodeAdvertise != "" && c.NodeBind == "":
		return fmt.Errorf("--node-advertise needs --node-bind: without it every node has a loopback address of its own")
	case c.NodeBind != "" && net.ParseIP(c.NodeBind).IsUnspecified() && c.NodeAdvertise == "":
		return fmt.Errorf("--node-bind %s listens on every address: --node-advertise must say which host clients connect to", c.NodeBind)
	case c.ReconcileInterval <= 0:
		return fmt.Errorf("--reconcile-interval must be positive")
	case c.LeaseTTL < time.Second:
		return fmt.Errorf("--lease-ttl must be at least 1s: renewals every third of it must reach the store in time")
	case c.ServerID != "" && !validServerID(c.ServerID):
		return fmt.Errorf("--server-id must be 1 to 64 letters, digits, '.', '_' or '-', not %q", c.ServerID)
	case c.PprofListen != "" && !isLoopback(c.PprofListen):
		return fmt.Errorf("--pprof-listen must be a loopback address such as 127.0.0.1:6060, not %q: profiles expose the process", c.PprofListen)
	}
	return nil
}

// validServerID reports whether id can name a server in node records
// and logs.
func validServerID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return id != ""
}

// isLoopback reports whether addr is host:port with a loopback host.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewLogger builds the server's logger from the configuration: slog's own
// text or JSON handler, writing to w (in the binary, a buffered
// internal/logwriter.Writer).
func (c Config) NewLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func validRegions(rs []string) bool {
	for _, r := range rs {
		if !sigv4.IsRegion(r) {
			return false
		}
	}
	return true
}
