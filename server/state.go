package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service"
	"github.com/elasticache-server/elasticache-server/storage"
)

// State snapshots: the admin routes /_admin/reset and /_admin/state, --seed
// at start, and the export and import commands, which open a store the way
// the server does. The document and its rules are service's; this file
// moves it between the store and HTTP, files and standard streams.

// maxStateBody bounds a POST /_admin/state body.
const maxStateBody = 256 << 20

// Transactions of an import or reset on etcd: under its default
// --max-txn-ops (128) and --max-request-bytes (1.5 MiB), with room for
// the key prefix and the request's envelope.
const (
	stateBatchWritesEtcd = 100
	stateBatchBytesEtcd  = 1 << 20
)

// stateBatching is how imports and resets split their writes: bbolt takes
// them in one transaction, etcd in several (see service.Batching).
func (c Config) stateBatching() service.Batching {
	if c.storeName() == StoreEtcd {
		return service.Batching{MaxWrites: stateBatchWritesEtcd, MaxBytes: stateBatchBytesEtcd}
	}
	return service.Batching{}
}

// seed imports --seed when the store holds no resources. A seed file that
// cannot be read or is not a valid document stops start-up, also when the
// store is not empty: it is a configuration error either way.
func (m *Main) seed(ctx context.Context) error {
	if m.cfg.Seed == "" {
		return nil
	}
	doc, err := os.ReadFile(m.cfg.Seed)
	if err != nil {
		return fmt.Errorf("--seed: %w", err)
	}
	res, err := m.svc.ImportState(ctx, doc, service.ImportOptions{OnlyIfEmpty: true, Batching: m.cfg.stateBatching()})
	if err != nil {
		return fmt.Errorf("--seed %s: %w", m.cfg.Seed, err)
	}
	switch {
	case res.Unfinished != "":
		m.Logger.Warn("seed not imported: an import or reset of the store did not finish", "seed", m.cfg.Seed, "unfinished", res.Unfinished)
	case res.Skipped:
		m.Logger.Info("seed ignored: the store is not empty", "seed", m.cfg.Seed)
	default:
		m.Logger.Info("seed imported", append([]any{"seed", m.cfg.Seed, "accounts", res.Accounts, "regions", res.Regions},
			countAttrs(res.Records, res.Events)...)...)
	}
	return nil
}

// stateRoutes registers /_admin/reset and /_admin/state. A known path with
// another method is 405 with the methods it has.
func (m *Main) stateRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_admin/reset", m.resetState)
	mux.HandleFunc("/_admin/reset", methodNotAllowed("POST"))
	mux.HandleFunc("GET /_admin/state", m.exportState)
	mux.HandleFunc("POST /_admin/state", m.importState)
	mux.HandleFunc("/_admin/state", methodNotAllowed("GET, POST"))
}

// resetAnswer is the body of POST /_admin/reset.
type resetAnswer struct {
	// Reset is "all", or the account that was reset.
	Reset   string       `json:"reset"`
	Removed resourceText `json:"removed"`
}

// resourceText counts records of each kind (by the kind's field name:
// cacheSecurityGroups, …), events, and for an import the accounts and
// regions, in an answer.
type resourceText map[string]int

func newResourceText(records map[string]int, events int) resourceText {
	t := resourceText{"events": events}
	for f, n := range records {
		t[f] = n
	}
	return t
}

// countAttrs are the log attributes of records per kind and events.
func countAttrs(records map[string]int, events int) []any {
	var attrs []any
	for _, k := range service.Kinds() {
		attrs = append(attrs, k.Field, records[k.Field])
	}
	return append(attrs, "events", events)
}

// resetState answers POST /_admin/reset[?account=123456789012]: every
// group and event of all accounts, or of one account in every region, is
// removed.
func (m *Main) resetState(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "InvalidParameter", "the query string cannot be decoded")
		return
	}
	account := ""
	for name, vs := range q {
		if name != "account" {
			writeAdminError(w, http.StatusBadRequest, "InvalidParameter", name+": not a parameter of /_admin/reset (account)")
			return
		}
		if len(vs) != 1 || !api.IsAccountID(vs[0]) {
			writeAdminError(w, http.StatusBadRequest, "InvalidParameter", "account: give one 12-digit AWS account ID, or leave it out to reset every account")
			return
		}
		account = vs[0]
	}
	res, err := m.svc.Reset(r.Context(), account, m.cfg.stateBatching())
	if err != nil {
		m.stateError(w, r, "reset", err)
		return
	}
	ans := resetAnswer{Reset: "all", Removed: newResourceText(res.Records, res.Events)}
	if account != "" {
		ans.Reset = account
	}
	m.Logger.Info("state reset", append([]any{"account", ans.Reset}, countAttrs(res.Records, res.Events)...)...)
	writeAdminJSON(w, http.StatusOK, ans)
}

// exportState answers GET /_admin/state with the state document, exactly
// as the export command writes it.
func (m *Main) exportState(w http.ResponseWriter, r *http.Request) {
	doc, err := m.svc.ExportState(r.Context())
	if err != nil {
		m.stateError(w, r, "export", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
}

// importState answers POST /_admin/state: the body replaces the whole
// state. A document with problems is 400 with all of them, and nothing
// is written.
func (m *Main) importState(w http.ResponseWriter, r *http.Request) {
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStateBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAdminError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("the state document must fit in %d MiB", maxStateBody>>20))
			return
		}
		writeAdminError(w, http.StatusBadRequest, "InvalidStateDocument", "the body could not be read")
		return
	}
	res, err := m.svc.ImportState(r.Context(), doc, service.ImportOptions{Batching: m.cfg.stateBatching()})
	if err != nil {
		m.stateError(w, r, "import", err)
		return
	}
	m.Logger.Info("state imported", append([]any{"accounts", res.Accounts, "regions", res.Regions}, countAttrs(res.Records, res.Events)...)...)
	imported := newResourceText(res.Records, res.Events)
	imported["accounts"], imported["regions"] = res.Accounts, res.Regions
	writeAdminJSON(w, http.StatusOK, map[string]resourceText{"imported": imported})
}

// stateError answers a failed export, import or reset.
func (m *Main) stateError(w http.ResponseWriter, r *http.Request, op string, err error) {
	var invalid *service.InvalidStateError
	switch {
	case errors.As(err, &invalid):
		writeAdminJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code":     "InvalidStateDocument",
			"message":  fmt.Sprintf("the state document has %d problem(s); nothing was written", len(invalid.Problems)+invalid.Omitted),
			"problems": invalid.Problems,
			"omitted":  invalid.Omitted,
		}})
	case errors.Is(err, service.ErrUnfinished):
		writeAdminError(w, http.StatusConflict, "UnfinishedOperation", err.Error())
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, storage.ErrConflict), errors.Is(err, context.DeadlineExceeded):
		m.Logger.Warn("admin "+op+" failed", "err", err)
		msg := "the store is unavailable; try again later"
		if op != "export" {
			msg = "the store is unavailable: the " + op + " did not finish, and may have been applied in part; run it again"
		}
		writeAdminError(w, http.StatusServiceUnavailable, "ServiceUnavailable", msg)
	default:
		if r.Context().Err() != nil {
			return // the client has gone: nobody to answer
		}
		m.Logger.Error("admin "+op+" failed", "err", err)
		writeAdminError(w, http.StatusInternalServerError, "InternalFailure", "the "+op+" failed; see the server log")
	}
}

// ParseStateConfig reads the flags of the export and import commands (the
// store's flags, with the server's defaults and environment variables)
// from args. Help goes to out; it returns flag.ErrHelp for -h.
func ParseStateConfig(command string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	// The server's defaults, so that both find the same store.
	def, err := ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		return Config{}, err
	}
	c := Config{Auth: def.Auth, LogFormat: def.LogFormat, LogLevel: def.LogLevel}
	name := ProgramName
	fs := flag.NewFlagSet(name+" "+command, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.DataDir, "data-dir", def.DataDir, "directory of the embedded store")
	fs.StringVar(&c.Store, "store", def.Store, "storage backend: bolt (embedded file in --data-dir) or etcd (see --etcd-endpoints)")
	fs.StringVar(&c.EtcdEndpoints, "etcd-endpoints", def.EtcdEndpoints, "client addresses of the etcd members, host:port,... (--store etcd)")
	fs.StringVar(&c.EtcdPrefix, "etcd-prefix", def.EtcdPrefix, "prefix of every etcd key, as the servers use it")
	fs.StringVar(&c.EtcdCert, "etcd-cert", def.EtcdCert, "client certificate (PEM file) for TLS to etcd")
	fs.StringVar(&c.EtcdKey, "etcd-key", def.EtcdKey, "private key (PEM file) of --etcd-cert")
	fs.StringVar(&c.EtcdCA, "etcd-ca", def.EtcdCA, "CA certificates (PEM file) to verify the etcd members with")
	fs.DurationVar(&c.EtcdRequestTimeout, "etcd-request-timeout", def.EtcdRequestTimeout, "how long one request to etcd may take")
	fs.Usage = func() {
		switch command {
		case "export":
			fmt.Fprintf(out, "Usage: %s export [flags] > state.json\n\n"+
				"Writes the state document (every account and region; see docs/STATE.md) of a store to\n"+
				"standard output. A bbolt data directory must not be in use by a running server: use\n"+
				"GET /_admin/state there.\n\n", name)
		default:
			fmt.Fprintf(out, "Usage: %s import [flags] < state.json\n\n"+
				"Replaces the whole state of a store with the state document read from standard input.\n"+
				"The document is checked completely first; with any problem, nothing is written. A bbolt\n"+
				"data directory must not be in use by a running server: use POST /_admin/state there.\n\n", name)
		}
		fmt.Fprintf(out, "Every flag can also be set by its environment variable, e.g. %s.\n\n", envName("data-dir"))
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, getenv); err != nil {
		return c, err
	}
	if c.DataDir == "" {
		return c, errors.New("--data-dir must not be empty")
	}
	return c, c.validateStore()
}

// openForState opens the configured store and the service on it, for the
// export and import commands. A bbolt directory in use by a server fails
// at once, naming the directory. Export (create false) refuses a data
// directory without a store rather than create an empty one.
func openForState(ctx context.Context, cfg Config, create bool) (*service.ElastiCache, storage.Store, error) {
	if cfg.storeName() == StoreBolt && !create {
		path := filepath.Join(cfg.DataDir, storeFileName)
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("no store to export in %s: %w", cfg.DataDir, err)
		}
	}
	m := NewMain(cfg, slog.New(slog.DiscardHandler))
	store, _, err := m.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	svc, err := service.Open(ctx, store, nil, service.Config{})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, store, nil
}

// ExportStore writes the state document of the store cfg names to w: the
// export command.
func ExportStore(ctx context.Context, cfg Config, w io.Writer) error {
	svc, store, err := openForState(ctx, cfg, false)
	if err != nil {
		return err
	}
	doc, err := svc.ExportState(ctx)
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(doc)
	return err
}

// ImportStore replaces the state of the store cfg names with the document
// read from r: the import command. The document is checked before the
// store is opened, so a bad one leaves no trace, not even a new file; the
// error is then a *service.InvalidStateError.
func ImportStore(ctx context.Context, cfg Config, r io.Reader) (service.ImportResult, error) {
	doc, err := io.ReadAll(r)
	if err != nil {
		return service.ImportResult{}, fmt.Errorf("read the state document: %w", err)
	}
	if err := service.ValidateState(doc); err != nil {
		return service.ImportResult{}, err
	}
	svc, store, err := openForState(ctx, cfg, true)
	if err != nil {
		return service.ImportResult{}, err
	}
	res, err := svc.ImportState(ctx, doc, service.ImportOptions{Batching: cfg.stateBatching()})
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	return res, err
}
