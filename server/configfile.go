package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/faultinject"
	"github.com/elasticache-server/elasticache-server/journal"
	"github.com/elasticache-server/elasticache-server/service"
	"github.com/elasticache-server/elasticache-server/sigv4"
)

// FileConfig is the --config file: what flags cannot say. Unknown keys and
// bad values are errors that name their line, so a typo never silently
// falls back to a default.
//
//	accounts:
//	  - id: "111111111111"
//	    era: modern          # classic (default) | modern
//	    strictSubnets: true  # refuse subnet ids the networks section does not declare
//	    quotas:
//	      cacheSecurityGroups: 10
//	networks:                # VPCs and subnets; see NetworkEntry
//	  - region: us-east-1
//	    vpcs: [{id: vpc-0a1b2c3d4e5f60718, subnets: [{id: subnet-0123456789abcdef0, availabilityZone: us-east-1a}]}]
//	journal:
//	  size: 1000             # requests GET /_admin/requests keeps
//	faults:
//	  seed: 42               # seeds the probability rules
//	  rules:
//	    - action: CreateCacheSecurityGroup   # or "*" (the default)
//	      error: Throttling  # Throttling | ServiceUnavailable | InternalFailure
//	      count: 2           # the next 2 matching requests; 0: no limit
type FileConfig struct {
	Accounts []AccountEntry `yaml:"accounts"`
	Journal  JournalConfig  `yaml:"journal"`
	Faults   FaultsConfig   `yaml:"faults"`
	Networks []NetworkEntry `yaml:"networks"`
}

// JournalConfig sizes the request journal of the admin API.
type JournalConfig struct {
	// Size is how many requests it keeps; 0 means journal.DefaultSize.
	Size journalSize `yaml:"size"`
}

type journalSize int

// UnmarshalYAML accepts 1 to journal.MaxSize.
func (s *journalSize) UnmarshalYAML(n *yaml.Node) error {
	var v int
	if err := n.Decode(&v); err != nil || v < 1 || v > journal.MaxSize {
		return fmt.Errorf("line %d: size must be a whole number from 1 to %d", n.Line, journal.MaxSize)
	}
	*s = journalSize(v)
	return nil
}

// FaultsConfig is the fault injection rules in force from the start. They
// apply with or without --admin; the admin API can change them at run time.
type FaultsConfig struct {
	// Seed seeds the random source of every probability rule that has no
	// seed of its own; 0 when absent.
	Seed  faultSeed        `yaml:"seed"`
	Rules []FaultRuleEntry `yaml:"rules"`
}

type faultSeed uint64

// UnmarshalYAML accepts any unsigned 64-bit number.
func (s *faultSeed) UnmarshalYAML(n *yaml.Node) error {
	var v uint64
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		return fmt.Errorf("line %d: seed must be a whole number from 0 to 18446744073709551615", n.Line)
	}
	*s = faultSeed(v)
	return nil
}

// FaultRuleEntry is one rule of the faults section: the keys of a rule in
// the admin API's JSON (action, account, region, error, delay, count,
// probability, seed), with delay written as "250ms" or "2s".
type FaultRuleEntry struct {
	Rule faultinject.Rule
}

// UnmarshalYAML reads a rule key by key, so that an unknown key, a value
// of the wrong type and a rule that fails validation all name their line.
func (e *FaultRuleEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a fault rule must be a mapping of action, error, count, …", n.Line)
	}
	var r faultinject.Rule
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		lines[k.Value] = k.Line
		if err := decodeRuleKey(&r, k.Value, v); err != nil {
			return fmt.Errorf("line %d: %s", k.Line, err)
		}
	}
	if err := r.Validate(); err != nil {
		line, ok := lines[fieldOf(err)]
		if !ok {
			line = n.Line
		}
		return fmt.Errorf("line %d: fault rule: %w", line, err)
	}
	e.Rule = r
	return nil
}

// decodeRuleKey sets the field of r that key names from v.
func decodeRuleKey(r *faultinject.Rule, key string, v *yaml.Node) error {
	str := func(dst *string) error {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			return fmt.Errorf("%s must be a string", key)
		}
		*dst = v.Value
		return nil
	}
	switch key {
	case "action":
		return str(&r.Action)
	case "account":
		// A bare 012345678901 would be a number: ask for quotes, as ids do.
		if err := str(&r.Account); err != nil {
			return fmt.Errorf("account must be a 12-digit account ID in quotes, such as \"111111111111\"")
		}
	case "region":
		return str(&r.Region)
	case "error":
		return str(&r.Error)
	case "delay":
		d, err := time.ParseDuration(v.Value)
		if v.Kind != yaml.ScalarNode || err != nil {
			return fmt.Errorf("delay must be a duration such as 250ms or 2s")
		}
		r.Delay = faultinject.Duration(d)
	case "count":
		if v.Kind != yaml.ScalarNode || v.Decode(&r.Count) != nil {
			return fmt.Errorf("count must be a whole number")
		}
	case "probability":
		var p float64
		if v.Kind != yaml.ScalarNode || v.Decode(&p) != nil {
			return fmt.Errorf("probability must be a number")
		}
		r.Probability = &p
	case "seed":
		var s uint64
		if v.Kind != yaml.ScalarNode || v.Decode(&s) != nil {
			return fmt.Errorf("seed must be a whole number from 0 to 18446744073709551615")
		}
		r.Seed = &s
	default:
		return fmt.Errorf("unknown key %q in a fault rule (action, account, region, error, delay, count, probability, seed)", key)
	}
	return nil
}

// fieldOf is the field a faultinject.FieldError names, "" for another error.
func fieldOf(err error) string {
	var fe *faultinject.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// faultRules is the file's rules, in order.
func (fc FileConfig) faultRules() []faultinject.Rule {
	out := make([]faultinject.Rule, len(fc.Faults.Rules))
	for i, e := range fc.Faults.Rules {
		out[i] = e.Rule
	}
	return out
}

// AccountEntry configures one account.
type AccountEntry struct {
	ID          accountID         `yaml:"id"`
	Era         era               `yaml:"era"`
	Quotas      AccountQuotas     `yaml:"quotas"`
	Credentials []CredentialEntry `yaml:"credentials"`
	// StrictSubnets refuses subnet ids that neither the networks section
	// nor the account's default VPC has; otherwise they are placed in the
	// default VPC (see package network).
	StrictSubnets bool `yaml:"strictSubnets"`
}

// CredentialEntry is one access key of an account, for --auth sigv4.
type CredentialEntry struct {
	AccessKeyID     accessKeyID `yaml:"accessKeyId"`
	SecretAccessKey secret      `yaml:"secretAccessKey"`
}

type accessKeyID string

// UnmarshalYAML accepts AWS's access key form: 16 to 128 letters and digits.
func (a *accessKeyID) UnmarshalYAML(n *yaml.Node) error {
	ok := n.Kind == yaml.ScalarNode && len(n.Value) >= 16 && len(n.Value) <= 128
	for i := 0; ok && i < len(n.Value); i++ {
		c := n.Value[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if !ok {
		return fmt.Errorf("line %d: accessKeyId must be 16 to 128 letters and digits", n.Line)
	}
	*a = accessKeyID(n.Value)
	return nil
}

type secret string

// UnmarshalYAML accepts any non-empty secret; it never echoes the value.
func (s *secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return fmt.Errorf("line %d: secretAccessKey must be a non-empty string", n.Line)
	}
	*s = secret(n.Value)
	return nil
}

// AccountQuotas overrides global quotas for one account, by the kind's
// field name (cacheSecurityGroups, cacheSubnetGroups, …).
type AccountQuotas map[string]int

// UnmarshalYAML accepts a mapping of known quota names to whole numbers
// of at least 1.
func (q *AccountQuotas) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: quotas must be a mapping such as cacheSecurityGroups: 10", n.Line)
	}
	out := AccountQuotas{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !knownQuota(k.Value) {
			return fmt.Errorf("line %d: unknown quota %q (known: %s)", k.Line, k.Value, strings.Join(quotaNames(), ", "))
		}
		var p positive
		if err := p.UnmarshalYAML(v); err != nil {
			return err
		}
		out[k.Value] = int(p)
	}
	*q = out
	return nil
}

// quotaNames are the names of the quotas, one per kind.
func quotaNames() []string { return service.QuotaNames() }

func knownQuota(name string) bool { return slices.Contains(quotaNames(), name) }

type accountID string

func (a *accountID) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || !api.IsAccountID(n.Value) {
		return fmt.Errorf("line %d: id must be a 12-digit account ID in quotes, such as \"111111111111\"", n.Line)
	}
	*a = accountID(n.Value)
	return nil
}

type era string

func (e *era) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || (n.Value != "classic" && n.Value != "modern") {
		return fmt.Errorf("line %d: era must be classic or modern", n.Line)
	}
	*e = era(n.Value)
	return nil
}

type positive int

func (p *positive) UnmarshalYAML(n *yaml.Node) error {
	var v int
	if err := n.Decode(&v); err != nil || v < 1 {
		return fmt.Errorf("line %d: must be a whole number of at least 1", n.Line)
	}
	*p = positive(v)
	return nil
}

// LoadFileConfig reads and validates a configuration file.
func LoadFileConfig(path string) (FileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileConfig{}, err
	}
	defer f.Close()
	fc, err := ParseFileConfig(f)
	if err != nil {
		return FileConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return fc, nil
}

// ParseFileConfig parses a configuration document.
func ParseFileConfig(r io.Reader) (FileConfig, error) {
	var fc FileConfig
	b, err := io.ReadAll(r)
	if err != nil {
		return fc, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // unknown keys are errors with their line
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return fc, err
	}
	// The typed decode has no line numbers for whole entries: take them
	// from the node tree for the checks that span entries.
	lines := accountLines(b)
	seen := map[accountID]int{}
	keys := map[accessKeyID]int{}
	for i, a := range fc.Accounts {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		if a.ID == "" {
			return fc, fmt.Errorf("line %d: an account needs an id", line)
		}
		if prev, dup := seen[a.ID]; dup {
			return fc, fmt.Errorf("line %d: account %s is already configured on line %d", line, a.ID, prev)
		}
		seen[a.ID] = line
		for _, c := range a.Credentials {
			if c.AccessKeyID == "" || c.SecretAccessKey == "" {
				return fc, fmt.Errorf("line %d: every credential of account %s needs accessKeyId and secretAccessKey", line, a.ID)
			}
			if prev, dup := keys[c.AccessKeyID]; dup {
				return fc, fmt.Errorf("line %d: access key %s is already configured for the account on line %d", line, c.AccessKeyID, prev)
			}
			keys[c.AccessKeyID] = line
		}
	}
	if err := fc.checkNetworks(b); err != nil {
		return fc, err
	}
	return fc, nil
}

// accountLines returns the line of each entry of the accounts list.
func accountLines(doc []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "accounts" {
			var lines []int
			for _, item := range m.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

// credentials returns the access keys of every account, for the verifier.
func (fc FileConfig) credentials() map[string]sigv4.Credentials {
	out := map[string]sigv4.Credentials{}
	for _, a := range fc.Accounts {
		for _, c := range a.Credentials {
			out[string(c.AccessKeyID)] = sigv4.Credentials{AccountID: string(a.ID), SecretAccessKey: string(c.SecretAccessKey)}
		}
	}
	return out
}

// serviceAccounts turns the file's accounts into the service's settings.
func (fc FileConfig) serviceAccounts() map[string]service.AccountConfig {
	out := make(map[string]service.AccountConfig, len(fc.Accounts))
	for _, a := range fc.Accounts {
		out[string(a.ID)] = service.AccountConfig{
			Modern: a.Era == "modern",
			Quotas: map[string]int(a.Quotas),
		}
	}
	return out
}
