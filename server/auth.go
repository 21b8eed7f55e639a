package server

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/internal/awsquery"
	"github.com/elasticache-server/elasticache-server/sigv4"
)

// authenticator builds the handler's Authenticate from --auth, --regions
// and the config file's credentials.
func (m *Main) authenticator(fc FileConfig) (func(*http.Request, []byte, awsquery.Form) (api.Caller, error), error) {
	regions := m.cfg.regionList()
	served := func(r string) bool { return regions == nil || slices.Contains(regions, r) }
	if m.cfg.Auth == AuthSigV4 {
		creds := fc.credentials()
		if len(creds) == 0 {
			return nil, fmt.Errorf("--auth sigv4: the config file gives no account credentials, so no request could succeed")
		}
		now := time.Now
		if m.Clock != nil {
			now = m.Clock.Now
		}
		v := &sigv4.Verifier{
			Lookup: func(key string) (sigv4.Credentials, bool) { c, ok := creds[key]; return c, ok },
			Region: served,
			Now:    now,
		}
		return func(r *http.Request, body []byte, _ awsquery.Form) (api.Caller, error) {
			return v.Verify(r, body)
		}, nil
	}
	defaults := api.Caller{AccountID: m.cfg.DefaultAccount, Region: m.cfg.DefaultRegion}
	if defaults.AccountID == "" {
		defaults.AccountID = "000000000000"
	}
	if defaults.Region == "" {
		defaults.Region = "us-east-1"
	}
	if !served(defaults.Region) {
		return nil, fmt.Errorf("--default-region %s is not among --regions %s", defaults.Region, m.cfg.Regions)
	}
	return func(r *http.Request, _ []byte, form awsquery.Form) (api.Caller, error) {
		c := sigv4.Identify(r, func(k string) string { return form[k] }, defaults)
		if !served(c.Region) {
			// Nothing is verified in this mode, but a request must never act
			// in a region the server was told not to serve.
			return api.Caller{}, api.SignatureDoesNotMatch(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", c.Region))
		}
		return c, nil
	}, nil
}
