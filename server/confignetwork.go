package server

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/network"
)

// NetworkEntry is one entry of the networks section of the config file:
// the VPCs and subnets of one account, or of every account when account
// is absent, in one region. network.New checks them (ids of AWS's form,
// zones of the region, no id twice, ipv4 or ipv6) when the file is parsed.
//
//	networks:
//	  - account: "111111111111"      # absent: every account
//	    region: us-east-1
//	    vpcs:
//	      - id: vpc-0a1b2c3d4e5f60718
//	        subnets:
//	          - id: subnet-0123456789abcdef0
//	            availabilityZone: us-east-1a
//	            ipv6: true           # ipv4 is true unless set to false
type NetworkEntry struct {
	Account networkAccount `yaml:"account"`
	Region  string         `yaml:"region"`
	VPCs    []VPCEntry     `yaml:"vpcs"`
}

// VPCEntry is a declared VPC and its subnets.
type VPCEntry struct {
	ID      string        `yaml:"id"`
	Subnets []SubnetEntry `yaml:"subnets"`
}

// SubnetEntry is a declared subnet. IPv4 defaults to true and IPv6 to
// false, as EC2 creates subnets; an IPv6-only subnet says ipv4: false.
type SubnetEntry struct {
	ID               string `yaml:"id"`
	AvailabilityZone string `yaml:"availabilityZone"`
	IPv4             *bool  `yaml:"ipv4"`
	IPv6             bool   `yaml:"ipv6"`
}

type networkAccount string

// UnmarshalYAML accepts a 12-digit account ID in quotes.
func (a *networkAccount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || !api.IsAccountID(n.Value) {
		return fmt.Errorf("line %d: account must be a 12-digit account ID in quotes, such as \"111111111111\"", n.Line)
	}
	*a = networkAccount(n.Value)
	return nil
}

// networkConfig is the file's networks section and the accounts whose
// undeclared subnet ids are refused (strictSubnets), for network.New.
func (fc FileConfig) networkConfig() network.Config {
	var cfg network.Config
	for _, a := range fc.Accounts {
		if a.StrictSubnets {
			if cfg.Strict == nil {
				cfg.Strict = map[string]bool{}
			}
			cfg.Strict[string(a.ID)] = true
		}
	}
	for _, e := range fc.Networks {
		n := network.Network{Account: string(e.Account), Region: e.Region}
		for _, v := range e.VPCs {
			vpc := network.VPC{ID: v.ID}
			for _, s := range v.Subnets {
				vpc.Subnets = append(vpc.Subnets, network.DeclaredSubnet{
					ID:               s.ID,
					AvailabilityZone: s.AvailabilityZone,
					IPv4:             s.IPv4 == nil || *s.IPv4,
					IPv6:             s.IPv6,
				})
			}
			n.VPCs = append(n.VPCs, vpc)
		}
		cfg.Networks = append(cfg.Networks, n)
	}
	return cfg
}

// checkNetworks checks the networks section with network.New and names the
// line of a refused declaration (and of the first one, for a duplicate).
func (fc FileConfig) checkNetworks(doc []byte) error {
	_, err := network.New(fc.networkConfig())
	var de *network.DeclarationError
	if !errors.As(err, &de) {
		return err
	}
	var root yaml.Node
	_ = yaml.Unmarshal(doc, &root) // it decoded once already
	msg := de.Msg
	if de.Earlier != nil {
		msg += fmt.Sprintf(" (first on line %d)", declarationLine(&root, *de.Earlier, "id"))
	}
	return fmt.Errorf("line %d: %s", declarationLine(&root, de.Path, de.Field), msg)
}

// declarationLine is the line of field in the declaration at p, or of the
// declaration itself when the field is absent.
func declarationLine(root *yaml.Node, p network.Path, field string) int {
	if len(root.Content) == 0 {
		return 0
	}
	n := item(value(root.Content[0], "networks"), p.Network)
	if p.VPC >= 0 {
		n = item(value(n, "vpcs"), p.VPC)
	}
	if p.Subnet >= 0 {
		n = item(value(n, "subnets"), p.Subnet)
	}
	if n == nil {
		return 0
	}
	if k := key(n, field); k != nil {
		return k.Line
	}
	return n.Line
}

// key is the key node named k of mapping m, nil if absent.
func key(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i]
		}
	}
	return nil
}

// value is the value node of key k of mapping m, nil if absent.
func value(m *yaml.Node, k string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i+1]
		}
	}
	return nil
}

// item is element i of sequence s, nil if absent.
func item(s *yaml.Node, i int) *yaml.Node {
	if s == nil || s.Kind != yaml.SequenceNode || i < 0 || i >= len(s.Content) {
		return nil
	}
	return s.Content[i]
}
