package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/elasticache-server/elasticache-server/api"
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
//	    quotas:
//	      cacheSecurityGroups: 10
type FileConfig struct {
	Accounts []AccountEntry `yaml:"accounts"`
}

// AccountEntry configures one account.
type AccountEntry struct {
	ID          accountID         `yaml:"id"`
	Era         era               `yaml:"era"`
	Quotas      AccountQuotas     `yaml:"quotas"`
	Credentials []CredentialEntry `yaml:"credentials"`
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

// AccountQuotas overrides global quotas for one account.
type AccountQuotas struct {
	CacheSecurityGroups positive `yaml:"cacheSecurityGroups"`
}

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
			Modern:                  a.Era == "modern",
			CacheSecurityGroupQuota: int(a.Quotas.CacheSecurityGroups),
		}
	}
	return out
}
