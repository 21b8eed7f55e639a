package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/faultinject"
	"github.com/elasticache-server/elasticache-server/journal"
)

// testingTools is the request journal and the fault rules. Both belong to
// one server process: servers sharing a store on etcd each have their own.
type testingTools struct {
	// journal is nil without --admin: nothing could read it.
	journal *journal.Journal
	// faults is never nil after Open: the config file's rules apply with
	// or without --admin.
	faults *faultinject.Set
}

// maxRulesBody bounds a POST /_admin/faults body; MaxRules rules fit many
// times over.
const maxRulesBody = 1 << 20

// openTestingTools prepares the request journal and the fault rules of the
// config file.
func (m *Main) openTestingTools(fc FileConfig) error {
	set := faultinject.NewSet(uint64(fc.Faults.Seed))
	if rules := fc.faultRules(); len(rules) > 0 {
		if err := m.checkDelays(rules); err != nil {
			return fmt.Errorf("config file: faults: %w", err)
		}
		if _, err := set.Add(rules...); err != nil {
			return fmt.Errorf("config file: faults: %w", err)
		}
		m.Logger.Info("fault injection rules loaded from the config file", "rules", len(rules), "seed", set.Seed())
	}
	m.tools.faults = set
	if m.cfg.Admin {
		m.tools.journal = journal.New(int(fc.Journal.Size))
	}
	return nil
}

// intercept is the handler's Intercept hook: fault injection.
func (m *Main) intercept(ctx context.Context, e *api.Exchange) error {
	id, err := m.tools.faults.Apply(ctx, faultinject.Request{Action: e.Action, Account: e.Caller.AccountID, Region: e.Caller.Region})
	if errors.Is(err, faultinject.ErrReleased) {
		// Shutting down: the client should try again, here or elsewhere.
		err = api.ServiceUnavailable()
	}
	if id != "" {
		m.Logger.LogAttrs(ctx, slog.LevelDebug, "fault injected",
			slog.String("request_id", e.RequestID), slog.String("rule", id), slog.String("action", e.Action))
	}
	return err
}

// checkDelays refuses a delay that reaches --write-timeout: net/http would
// cut the connection before the delay ended, and the client would see a
// broken connection rather than the answer the rule means.
func (m *Main) checkDelays(rules []faultinject.Rule) error {
	limit := orDefault(m.cfg.WriteTimeout, defaultWriteTimeout)
	for i, r := range rules {
		if time.Duration(r.Delay) >= limit {
			fe := &faultinject.FieldError{Field: "delay", Message: fmt.Sprintf("must be shorter than the server's --write-timeout (%s)", limit)}
			if len(rules) > 1 {
				fe.Field = fmt.Sprintf("[%d].delay", i)
			}
			return fe
		}
	}
	return nil
}

// recordRequest adds an answered request to the journal.
func (m *Main) recordRequest(ctx context.Context, e *api.Exchange) {
	if m.tools.journal != nil {
		m.tools.journal.Record(e)
	}
}

// testingRoutes registers /_admin/requests and /_admin/faults. A known
// path with another method is 405 with the methods it has.
func (m *Main) testingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_admin/requests", m.listRequests)
	mux.HandleFunc("DELETE /_admin/requests", m.clearRequests)
	mux.HandleFunc("/_admin/requests", methodNotAllowed("GET, DELETE"))
	mux.HandleFunc("GET /_admin/faults", m.listFaults)
	mux.HandleFunc("POST /_admin/faults", m.addFaults)
	mux.HandleFunc("DELETE /_admin/faults", m.clearFaults)
	mux.HandleFunc("/_admin/faults", methodNotAllowed("GET, POST, DELETE"))
	mux.HandleFunc("DELETE /_admin/faults/{id}", m.removeFault)
	mux.HandleFunc("/_admin/faults/{id}", methodNotAllowed("DELETE"))
}

// methodNotAllowed answers 405 naming the methods a route has.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeAdminError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed on "+r.URL.Path+"; use "+allow)
	}
}

// requestsAnswer is the body of GET /_admin/requests.
type requestsAnswer struct {
	// Size is how many requests the journal keeps.
	Size int `json:"size"`
	// Requests are the matching entries, oldest first.
	Requests []journal.Entry `json:"requests"`
}

// listRequests answers GET /_admin/requests?limit=&action=&account=&region=:
// the journal, oldest first, newest last; limit keeps the newest.
func (m *Main) listRequests(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "InvalidParameter", "the query string cannot be decoded")
		return
	}
	var f journal.Filter
	for name, vs := range q {
		if len(vs) != 1 {
			writeAdminError(w, http.StatusBadRequest, "InvalidParameter", name+": give it once")
			return
		}
		v := vs[0]
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeAdminError(w, http.StatusBadRequest, "InvalidParameter", "limit: must be a whole number of at least 1")
				return
			}
			f.Limit = n
		case "action":
			f.Action = v
		case "account":
			f.Account = v
		case "region":
			f.Region = v
		default:
			writeAdminError(w, http.StatusBadRequest, "InvalidParameter", name+": not a parameter of /_admin/requests (limit, action, account, region)")
			return
		}
	}
	writeAdminJSON(w, http.StatusOK, requestsAnswer{Size: m.tools.journal.Size(), Requests: m.tools.journal.Entries(f)})
}

// clearRequests answers DELETE /_admin/requests: the journal is emptied.
func (m *Main) clearRequests(w http.ResponseWriter, r *http.Request) {
	writeAdminJSON(w, http.StatusOK, map[string]int{"cleared": m.tools.journal.Clear()})
}

// faultsAnswer is the body of GET and POST /_admin/faults.
type faultsAnswer struct {
	// Seed is the set's seed, for rules without their own (GET only).
	Seed *uint64 `json:"seed,omitempty"`
	// Rules are the rules in the order they are checked (GET), or the
	// ones just added (POST).
	Rules []faultinject.Status `json:"rules"`
}

// listFaults answers GET /_admin/faults.
func (m *Main) listFaults(w http.ResponseWriter, r *http.Request) {
	seed := m.tools.faults.Seed()
	writeAdminJSON(w, http.StatusOK, faultsAnswer{Seed: &seed, Rules: m.tools.faults.List()})
}

// addFaults answers POST /_admin/faults: a rule (a JSON object) or a list
// of rules, appended after the existing ones, all or none. An invalid rule
// is 400 with the field it is about.
func (m *Main) addFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRulesBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAdminError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the rules must fit in 1 MiB")
			return
		}
		writeAdminError(w, http.StatusBadRequest, "InvalidRule", "the body could not be read")
		return
	}
	rules, err := faultinject.DecodeRules(body)
	if err == nil {
		err = m.checkDelays(rules)
	}
	var added []faultinject.Status
	if err == nil {
		added, err = m.tools.faults.Add(rules...)
	}
	if err != nil {
		var fe *faultinject.FieldError
		if !errors.As(err, &fe) {
			fe = &faultinject.FieldError{Message: err.Error()}
		}
		writeAdminJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"code": "InvalidRule", "message": fe.Error(), "field": fe.Field,
		}})
		return
	}
	m.Logger.Info("fault injection rules added", "rules", len(added))
	writeAdminJSON(w, http.StatusCreated, faultsAnswer{Rules: added})
}

// clearFaults answers DELETE /_admin/faults: every rule is deleted,
// including those of the config file.
func (m *Main) clearFaults(w http.ResponseWriter, r *http.Request) {
	writeAdminJSON(w, http.StatusOK, map[string]int{"deleted": m.tools.faults.Clear()})
}

// removeFault answers DELETE /_admin/faults/{id}.
func (m *Main) removeFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !m.tools.faults.Remove(id) {
		writeAdminError(w, http.StatusNotFound, "NotFound", "no fault rule "+strconv.Quote(id))
		return
	}
	writeAdminJSON(w, http.StatusOK, map[string]int{"deleted": 1})
}
