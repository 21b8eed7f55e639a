package network

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/sigv4"
)

// The values of the model's NetworkType enum.
const (
	IPv4      = "ipv4"
	IPv6      = "ipv6"
	DualStack = "dual_stack"
)

// ErrUnknownSubnet is what Subnet returns, wrapped with the id, for a subnet
// that does not exist for the caller: a malformed id, an id declared for
// another account or region, or, in strict mode, an id nobody declared.
var ErrUnknownSubnet = errors.New("unknown subnet")

// Subnet is one subnet as ElastiCache reports it in a cache subnet group.
type Subnet struct {
	ID               string
	VpcID            string
	AvailabilityZone string
	// NetworkTypes is what the subnet supports, in the order ipv4, ipv6,
	// dual_stack: [ipv4] for an IPv4-only subnet, [ipv6] for an IPv6-only
	// one, [ipv4 dual_stack] for a dual-stack one.
	NetworkTypes []string
}

// Config is what the config file declares. Its zero value declares nothing:
// default VPCs only, undeclared subnets accepted and placed.
type Config struct {
	// Networks declares VPCs and their subnets per account and region.
	Networks []Network
	// Strict holds the accounts whose undeclared subnet ids are refused.
	Strict map[string]bool
}

// Network is the VPCs of one account (or of every account) in one region.
type Network struct {
	// Account is a 12-digit account ID, or "" for every account. An
	// account's own declarations are looked up before the shared ones.
	Account string
	Region  string
	VPCs    []VPC
}

// VPC is a declared VPC and its subnets.
type VPC struct {
	ID      string // "vpc-" and 8 or 17 lowercase hex digits
	Subnets []DeclaredSubnet
}

// DeclaredSubnet is a subnet as the config file declares it. At least one
// of IPv4 and IPv6 is set.
type DeclaredSubnet struct {
	ID               string // "subnet-" and 8 or 17 lowercase hex digits
	AvailabilityZone string // one of AvailabilityZones(region)
	IPv4, IPv6       bool
}

// Path locates a declaration in Config: indexes into Networks, its VPCs and
// that VPC's Subnets; -1 where the declaration is above that level.
type Path struct{ Network, VPC, Subnet int }

// String writes p as networks[0].vpcs[1].subnets[2].
func (p Path) String() string {
	s := fmt.Sprintf("networks[%d]", p.Network)
	if p.VPC >= 0 {
		s += fmt.Sprintf(".vpcs[%d]", p.VPC)
	}
	if p.Subnet >= 0 {
		s += fmt.Sprintf(".subnets[%d]", p.Subnet)
	}
	return s
}

// DeclarationError is a declaration New refuses.
type DeclarationError struct {
	Path
	// Field is the refused field, named as in the config file: account,
	// region, id, availabilityZone, ipv4.
	Field string
	Msg   string
	// Earlier is the first declaration of a duplicated id, else nil.
	Earlier *Path
}

// Error names the path and field, as networks[0].vpcs[1].subnets[2].id.
func (e *DeclarationError) Error() string {
	s := fmt.Sprintf("%s.%s: %s", e.Path, e.Field, e.Msg)
	if e.Earlier != nil {
		s += " (first declared at " + e.Earlier.String() + ")"
	}
	return s
}

// Model answers which subnets and VPCs exist. A nil *Model is usable: it
// declares nothing and accepts every well-formed subnet id. Its methods are
// safe for concurrent use (it never changes after New).
type Model struct {
	subnets  map[scope]map[string]Subnet // (account or "", region) -> id -> subnet
	declared map[string]bool             // every declared subnet id
	strict   map[string]bool
}

type scope struct{ account, region string }

// New checks cfg and builds its model. It refuses, with a
// *DeclarationError, a malformed account, region, VPC id or subnet id, an
// availability zone outside its region, a subnet with neither IPv4 nor
// IPv6, and an id (of a VPC or a subnet) declared twice anywhere in cfg:
// AWS ids are unique across accounts and regions.
func New(cfg Config) (*Model, error) {
	m := &Model{
		subnets:  map[scope]map[string]Subnet{},
		declared: map[string]bool{},
		strict:   map[string]bool{},
	}
	for a, on := range cfg.Strict {
		if on {
			m.strict[a] = true
		}
	}
	vpcs := map[string]Path{}
	subnets := map[string]Path{}
	for i, n := range cfg.Networks {
		at := Path{i, -1, -1}
		if n.Account != "" && !api.IsAccountID(n.Account) {
			return nil, &DeclarationError{Path: at, Field: "account", Msg: fmt.Sprintf("%q is not a 12-digit account ID", n.Account)}
		}
		if !sigv4.IsRegion(n.Region) {
			return nil, &DeclarationError{Path: at, Field: "region", Msg: fmt.Sprintf("%q is not a region name such as us-east-1", n.Region)}
		}
		sc := scope{n.Account, n.Region}
		if m.subnets[sc] == nil {
			m.subnets[sc] = map[string]Subnet{}
		}
		for j, v := range n.VPCs {
			at := Path{i, j, -1}
			if !IsVPCID(v.ID) {
				return nil, &DeclarationError{Path: at, Field: "id", Msg: fmt.Sprintf("%q is not a VPC id: vpc- and 8 or 17 lowercase hex digits", v.ID)}
			}
			if prev, dup := vpcs[v.ID]; dup {
				return nil, &DeclarationError{Path: at, Field: "id", Msg: fmt.Sprintf("VPC %s is declared twice", v.ID), Earlier: &prev}
			}
			vpcs[v.ID] = at
			for k, s := range v.Subnets {
				at := Path{i, j, k}
				if !IsSubnetID(s.ID) {
					return nil, &DeclarationError{Path: at, Field: "id", Msg: fmt.Sprintf("%q is not a subnet id: subnet- and 8 or 17 lowercase hex digits", s.ID)}
				}
				if prev, dup := subnets[s.ID]; dup {
					return nil, &DeclarationError{Path: at, Field: "id", Msg: fmt.Sprintf("subnet %s is declared twice", s.ID), Earlier: &prev}
				}
				subnets[s.ID] = at
				if !inRegion(s.AvailabilityZone, n.Region) {
					return nil, &DeclarationError{Path: at, Field: "availabilityZone", Msg: fmt.Sprintf("%q is not an availability zone of %s (%s)",
						s.AvailabilityZone, n.Region, strings.Join(AvailabilityZones(n.Region), ", "))}
				}
				if !s.IPv4 && !s.IPv6 {
					return nil, &DeclarationError{Path: at, Field: "ipv4", Msg: "a subnet needs ipv4, ipv6 or both"}
				}
				m.subnets[sc][s.ID] = Subnet{ID: s.ID, VpcID: v.ID, AvailabilityZone: s.AvailabilityZone, NetworkTypes: networkTypes(s.IPv4, s.IPv6)}
				m.declared[s.ID] = true
			}
		}
	}
	return m, nil
}

// Subnet returns the subnet id of account in region: a declared subnet (the
// account's own declarations first, then those for every account), one of
// the default subnets, or else, unless account is strict, the id placed in
// the account's default VPC of region, in the availability zone a hash of
// the id picks, IPv4 only. It returns an error wrapping ErrUnknownSubnet for
// a malformed id, an id declared only for other accounts or regions, and
// an undeclared id of a strict account.
func (m *Model) Subnet(account, region, id string) (Subnet, error) {
	if !IsSubnetID(id) {
		return Subnet{}, fmt.Errorf("subnet ID %q is malformed: %w", id, ErrUnknownSubnet)
	}
	if m != nil {
		for _, sc := range []scope{{account, region}, {"", region}} {
			if s, ok := m.subnets[sc][id]; ok {
				return s.clone(), nil
			}
		}
	}
	for _, s := range DefaultSubnets(account, region) {
		if s.ID == id {
			return s, nil
		}
	}
	if m != nil && m.declared[id] {
		return Subnet{}, fmt.Errorf("subnet %s is declared for another account or region than %s in %s: %w", id, account, region, ErrUnknownSubnet)
	}
	if m != nil && m.strict[account] {
		return Subnet{}, fmt.Errorf("subnet %s is not declared for account %s in %s: %w", id, account, region, ErrUnknownSubnet)
	}
	azs := AvailabilityZones(region)
	return Subnet{
		ID:               id,
		VpcID:            DefaultVPC(account, region),
		AvailabilityZone: azs[hashIndex("placement", id, len(azs))],
		NetworkTypes:     []string{IPv4},
	}, nil
}

// DefaultVPC is the id of the default VPC of account in region.
func (m *Model) DefaultVPC(account, region string) string { return DefaultVPC(account, region) }

// DefaultSubnets returns the default subnets of account in region.
func (m *Model) DefaultSubnets(account, region string) []Subnet {
	return DefaultSubnets(account, region)
}

// AvailabilityZones returns the availability zones of region.
func (m *Model) AvailabilityZones(region string) []string { return AvailabilityZones(region) }

// DefaultVPC is the id of the default VPC of account in region: "vpc-0"
// and 16 hex digits of a hash of both, the same on every server.
func DefaultVPC(account, region string) string {
	return "vpc-" + hashHex("default-vpc", account, region)
}

// DefaultSubnets returns the default subnets of account in region, one per
// availability zone in zone order, in the default VPC, IPv4 only (as EC2's
// default subnets are): "subnet-0" and 16 hex digits of a hash of account,
// region and zone.
func DefaultSubnets(account, region string) []Subnet {
	vpc := DefaultVPC(account, region)
	azs := AvailabilityZones(region)
	out := make([]Subnet, len(azs))
	for i, az := range azs {
		out[i] = Subnet{ID: "subnet-" + hashHex("default-subnet", account, region, az), VpcID: vpc, AvailabilityZone: az, NetworkTypes: []string{IPv4}}
	}
	return out
}

// GroupNetworkTypes returns the network types of a subnet group: those
// every one of its subnets supports, in the order ipv4, ipv6, dual_stack;
// nil for no subnets or when they share none (an IPv4-only subnet with an
// IPv6-only one).
func GroupNetworkTypes(subnets []Subnet) []string {
	if len(subnets) == 0 {
		return nil
	}
	var out []string
	for _, t := range []string{IPv4, IPv6, DualStack} {
		all := true
		for _, s := range subnets {
			all = all && contains(s.NetworkTypes, t)
		}
		if all {
			out = append(out, t)
		}
	}
	return out
}

// IsSubnetID reports whether s has the form of an EC2 subnet id: "subnet-"
// and 8 or 17 lowercase hex digits.
func IsSubnetID(s string) bool { return isID(s, "subnet-") }

// IsVPCID reports whether s has the form of an EC2 VPC id: "vpc-" and 8 or
// 17 lowercase hex digits.
func IsVPCID(s string) bool { return isID(s, "vpc-") }

func isID(s, prefix string) bool {
	h, ok := strings.CutPrefix(s, prefix)
	if !ok || len(h) != 8 && len(h) != 17 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// networkTypes is what a subnet with these address families supports. A
// dual-stack subnet hosts ipv4 and dual_stack clusters but not ipv6 ones,
// which need an IPv6-only subnet (docs/DECISIONS.md, the network model).
func networkTypes(v4, v6 bool) []string {
	switch {
	case v4 && v6:
		return []string{IPv4, DualStack}
	case v6:
		return []string{IPv6}
	default:
		return []string{IPv4}
	}
}

func (s Subnet) clone() Subnet {
	s.NetworkTypes = append([]string(nil), s.NetworkTypes...)
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hashHex is 17 hex digits: "0" and 16 of a hash of kind and parts. EC2's
// 17-digit ids start with 0 too (vpc-0a1b2c3d4e5f60718). The parts are
// joined with NUL, which none of them can contain, so that distinct inputs
// never collide by concatenation.
func hashHex(kind string, parts ...string) string {
	sum := sha256.Sum256([]byte("elasticache-server/network/" + kind + "\x00" + strings.Join(parts, "\x00")))
	return "0" + hex.EncodeToString(sum[:8])
}

// hashIndex is an index below n picked by a hash of kind and s.
func hashIndex(kind, s string, n int) int {
	sum := sha256.Sum256([]byte("elasticache-server/network/" + kind + "\x00" + s))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(n))
}
