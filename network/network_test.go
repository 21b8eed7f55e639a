package network

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	acctA = "111111111111"
	acctB = "222222222222"
)

var (
	vpcIDRe    = regexp.MustCompile(`^vpc-0[0-9a-f]{16}$`)
	subnetIDRe = regexp.MustCompile(`^subnet-0[0-9a-f]{16}$`)
)

// declared is a config with a shared dual-stack VPC in eu-west-1, an
// account's own VPC in us-east-1 and a strict account.
func declared() Config {
	return Config{
		Networks: []Network{
			{Account: acctA, Region: "us-east-1", VPCs: []VPC{{ID: "vpc-0a1b2c3d4e5f60718", Subnets: []DeclaredSubnet{
				{ID: "subnet-0123456789abcdef0", AvailabilityZone: "us-east-1f", IPv4: true},
				{ID: "subnet-11111111", AvailabilityZone: "us-east-1a", IPv6: true},
			}}}},
			{Region: "eu-west-1", VPCs: []VPC{{ID: "vpc-22222222", Subnets: []DeclaredSubnet{
				{ID: "subnet-22222222", AvailabilityZone: "eu-west-1b", IPv4: true, IPv6: true},
			}}}},
		},
		Strict: map[string]bool{acctB: true},
	}
}

func mustNew(tb testing.TB, cfg Config) *Model {
	tb.Helper()
	m, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestDefaultsAreDeterministic(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"us-east-1", "us-west-1", "eu-west-1", "xx-north-9"} {
		t.Run(region, func(t *testing.T) {
			t.Parallel()
			m1, m2 := mustNew(t, Config{}), mustNew(t, declared())
			var nilModel *Model
			vpc := m1.DefaultVPC(acctA, region)
			if !vpcIDRe.MatchString(vpc) {
				t.Fatalf("default VPC %q is not vpc- and 17 hex digits", vpc)
			}
			for _, m := range []*Model{m2, nilModel} {
				if got := m.DefaultVPC(acctA, region); got != vpc {
					t.Errorf("default VPC %s, then %s", vpc, got)
				}
				if d := cmp.Diff(m1.DefaultSubnets(acctA, region), m.DefaultSubnets(acctA, region)); d != "" {
					t.Errorf("default subnets differ (-first +second):\n%s", d)
				}
			}
			if m1.DefaultVPC(acctB, region) == vpc || m1.DefaultVPC(acctA, "ap-south-1") == vpc {
				t.Errorf("another account or region has the same default VPC %s", vpc)
			}
			subnets := m1.DefaultSubnets(acctA, region)
			azs := AvailabilityZones(region)
			if len(subnets) != len(azs) {
				t.Fatalf("%d default subnets for %d zones", len(subnets), len(azs))
			}
			seen := map[string]bool{}
			for i, s := range subnets {
				if !subnetIDRe.MatchString(s.ID) || seen[s.ID] || s.VpcID != vpc || s.AvailabilityZone != azs[i] || !cmp.Equal(s.NetworkTypes, []string{IPv4}) {
					t.Errorf("default subnet %d = %+v", i, s)
				}
				seen[s.ID] = true
				got, err := m1.Subnet(acctA, region, s.ID)
				if err != nil || !cmp.Equal(got, s) {
					t.Errorf("Subnet(%s) = %+v, %v; want the default subnet %+v", s.ID, got, err, s)
				}
			}
		})
	}
}

// TestPinnedIDs guards the hash: changing it renames every default VPC
// and subnet that clients and stored subnet groups already know.
func TestPinnedIDs(t *testing.T) {
	t.Parallel()
	got := []string{DefaultVPC(acctA, "us-east-1"), DefaultSubnets(acctA, "us-east-1")[0].ID}
	s, err := (*Model)(nil).Subnet(acctA, "us-east-1", "subnet-0badc0ffee0000001")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, s.AvailabilityZone)
	want := []string{"vpc-0262bee51718da761", "subnet-0b267683dc19c8f85", "us-east-1c"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ids changed (-pinned +now):\n%s", d)
	}
}

func TestAvailabilityZones(t *testing.T) {
	t.Parallel()
	cases := []struct {
		region string
		want   []string
	}{
		{"us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"}},
		{"us-west-1", []string{"us-west-1a", "us-west-1c"}},
		{"ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}},
		{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{"xx-north-9", []string{"xx-north-9a", "xx-north-9b", "xx-north-9c"}},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, (*Model)(nil).AvailabilityZones(tc.region)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.region, d)
		}
	}
}

func TestPlacementIsStableAndInRegion(t *testing.T) {
	t.Parallel()
	m1, m2 := mustNew(t, Config{}), mustNew(t, declared())
	counts := map[string]int{}
	for i := range 600 {
		id := "subnet-" + hashHex("test", string(rune('a'+i%26)), strings.Repeat("x", i))
		a, err := m1.Subnet(acctA, "us-east-1", id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m2.Subnet(acctA, "us-east-1", id)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(a, b) {
			t.Fatalf("%s placed as %+v, then %+v", id, a, b)
		}
		if !inRegion(a.AvailabilityZone, "us-east-1") || a.VpcID != DefaultVPC(acctA, "us-east-1") || !cmp.Equal(a.NetworkTypes, []string{IPv4}) {
			t.Fatalf("%s placed as %+v", id, a)
		}
		counts[a.AvailabilityZone]++
		// The zone depends on the id only; the VPC on the account.
		c, _ := m1.Subnet(acctB, "us-east-1", id)
		if c.AvailabilityZone != a.AvailabilityZone || c.VpcID != DefaultVPC(acctB, "us-east-1") {
			t.Fatalf("%s for another account: %+v", id, c)
		}
	}
	if len(counts) != 6 {
		t.Errorf("600 ids used zones %v, want all 6 of us-east-1", counts)
	}
}

func TestSubnet(t *testing.T) {
	t.Parallel()
	m := mustNew(t, declared())
	placed := func(account, region, id string) Subnet {
		s, err := (*Model)(nil).Subnet(account, region, id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name                string
		account, region, id string
		want                Subnet
		unknown             bool
	}{
		{name: "declared for the account", account: acctA, region: "us-east-1", id: "subnet-0123456789abcdef0",
			want: Subnet{ID: "subnet-0123456789abcdef0", VpcID: "vpc-0a1b2c3d4e5f60718", AvailabilityZone: "us-east-1f", NetworkTypes: []string{IPv4}}},
		{name: "declared IPv6 only", account: acctA, region: "us-east-1", id: "subnet-11111111",
			want: Subnet{ID: "subnet-11111111", VpcID: "vpc-0a1b2c3d4e5f60718", AvailabilityZone: "us-east-1a", NetworkTypes: []string{IPv6}}},
		{name: "declared for every account", account: acctB, region: "eu-west-1", id: "subnet-22222222",
			want: Subnet{ID: "subnet-22222222", VpcID: "vpc-22222222", AvailabilityZone: "eu-west-1b", NetworkTypes: []string{IPv4, DualStack}}},
		{name: "declared for another account", account: acctB, region: "us-east-1", id: "subnet-0123456789abcdef0", unknown: true},
		{name: "declared in another region", account: acctA, region: "eu-west-1", id: "subnet-11111111", unknown: true},
		{name: "undeclared, placed", account: acctA, region: "us-east-1", id: "subnet-99999999", want: placed(acctA, "us-east-1", "subnet-99999999")},
		{name: "undeclared, strict account", account: acctB, region: "us-east-1", id: "subnet-99999999", unknown: true},
		{name: "strict account, shared declaration", account: acctB, region: "eu-west-1", id: "subnet-22222222",
			want: Subnet{ID: "subnet-22222222", VpcID: "vpc-22222222", AvailabilityZone: "eu-west-1b", NetworkTypes: []string{IPv4, DualStack}}},
		{name: "strict account, default subnet", account: acctB, region: "us-east-2", id: DefaultSubnets(acctB, "us-east-2")[2].ID,
			want: DefaultSubnets(acctB, "us-east-2")[2]},
		{name: "malformed", account: acctA, region: "us-east-1", id: "subnet-xyz", unknown: true},
		{name: "upper case", account: acctA, region: "us-east-1", id: "subnet-ABCDEF01", unknown: true},
		{name: "nine digits", account: acctA, region: "us-east-1", id: "subnet-123456789", unknown: true},
		{name: "a VPC id", account: acctA, region: "us-east-1", id: "vpc-12345678", unknown: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := m.Subnet(tc.account, tc.region, tc.id)
			if tc.unknown {
				if !errors.Is(err, ErrUnknownSubnet) || !strings.Contains(err.Error(), tc.id) {
					t.Fatalf("Subnet = %+v, %v; want ErrUnknownSubnet naming %s", got, err, tc.id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestSubnetResultIsACopy(t *testing.T) {
	t.Parallel()
	m := mustNew(t, declared())
	s, _ := m.Subnet(acctA, "us-east-1", "subnet-11111111")
	s.NetworkTypes[0] = "changed"
	if again, _ := m.Subnet(acctA, "us-east-1", "subnet-11111111"); again.NetworkTypes[0] != IPv6 {
		t.Errorf("a caller changed the model: %v", again.NetworkTypes)
	}
}

func TestNilAndZeroModelAcceptEverything(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]*Model{"nil": nil, "zero config": mustNew(t, Config{}), "strict off": mustNew(t, Config{Strict: map[string]bool{acctA: false}})} {
		if _, err := m.Subnet(acctA, "us-east-1", "subnet-12345678"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	sub := func(id, az string, v4, v6 bool) DeclaredSubnet {
		return DeclaredSubnet{ID: id, AvailabilityZone: az, IPv4: v4, IPv6: v6}
	}
	one := func(account, region, vpc string, subnets ...DeclaredSubnet) Network {
		return Network{Account: account, Region: region, VPCs: []VPC{{ID: vpc, Subnets: subnets}}}
	}
	ok := sub("subnet-12345678", "us-east-1a", true, false)
	cases := []struct {
		name     string
		networks []Network
		want     DeclarationError
	}{
		{"bad account", []Network{one("1234", "us-east-1", "vpc-12345678", ok)},
			DeclarationError{Path: Path{0, -1, -1}, Field: "account"}},
		{"bad region", []Network{one("", "useast1", "vpc-12345678", ok)},
			DeclarationError{Path: Path{0, -1, -1}, Field: "region"}},
		{"bad VPC id", []Network{one("", "us-east-1", "vpc-1234567", ok)},
			DeclarationError{Path: Path{0, 0, -1}, Field: "id"}},
		{"VPC id of a subnet", []Network{one("", "us-east-1", "subnet-12345678", ok)},
			DeclarationError{Path: Path{0, 0, -1}, Field: "id"}},
		{"bad subnet id", []Network{one("", "us-east-1", "vpc-12345678", sub("subnet-1234567g", "us-east-1a", true, false))},
			DeclarationError{Path: Path{0, 0, 0}, Field: "id"}},
		{"zone of another region", []Network{one("", "us-east-1", "vpc-12345678", ok, sub("subnet-87654321", "us-east-2a", true, false))},
			DeclarationError{Path: Path{0, 0, 1}, Field: "availabilityZone"}},
		{"zone not in the table", []Network{one("", "us-west-1", "vpc-12345678", sub("subnet-87654321", "us-west-1b", true, false))},
			DeclarationError{Path: Path{0, 0, 0}, Field: "availabilityZone"}},
		{"no address family", []Network{one("", "us-east-1", "vpc-12345678", sub("subnet-87654321", "us-east-1a", false, false))},
			DeclarationError{Path: Path{0, 0, 0}, Field: "ipv4"}},
		{"subnet twice", []Network{one("", "us-east-1", "vpc-12345678", ok), one(acctA, "eu-west-1", "vpc-87654321", sub("subnet-12345678", "eu-west-1a", true, false))},
			DeclarationError{Path: Path{1, 0, 0}, Field: "id", Earlier: &Path{0, 0, 0}}},
		{"VPC twice", []Network{one(acctA, "us-east-1", "vpc-12345678"), one(acctB, "us-east-1", "vpc-12345678")},
			DeclarationError{Path: Path{1, 0, -1}, Field: "id", Earlier: &Path{0, 0, -1}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Networks: tc.networks})
			var de *DeclarationError
			if !errors.As(err, &de) {
				t.Fatalf("New = %v, want a *DeclarationError", err)
			}
			de.Msg = ""
			if d := cmp.Diff(&tc.want, de); d != "" {
				t.Errorf("(-want +got):\n%s\n%v", d, err)
			}
		})
	}
}

func TestDeclarationErrorText(t *testing.T) {
	t.Parallel()
	err := &DeclarationError{Path: Path{1, 0, 2}, Field: "id", Msg: "subnet subnet-12345678 is declared twice", Earlier: &Path{0, 0, -1}}
	want := "networks[1].vpcs[0].subnets[2].id: subnet subnet-12345678 is declared twice (first declared at networks[0].vpcs[0])"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestGroupNetworkTypes(t *testing.T) {
	t.Parallel()
	v4 := Subnet{NetworkTypes: []string{IPv4}}
	v6 := Subnet{NetworkTypes: []string{IPv6}}
	dual := Subnet{NetworkTypes: []string{IPv4, DualStack}}
	cases := []struct {
		name    string
		subnets []Subnet
		want    []string
	}{
		{"none", nil, nil},
		{"one IPv4", []Subnet{v4}, []string{IPv4}},
		{"one IPv6", []Subnet{v6}, []string{IPv6}},
		{"one dual-stack", []Subnet{dual}, []string{IPv4, DualStack}},
		{"all dual-stack", []Subnet{dual, dual}, []string{IPv4, DualStack}},
		{"dual-stack and IPv4", []Subnet{dual, v4}, []string{IPv4}},
		{"IPv6 and dual-stack", []Subnet{v6, dual}, nil},
		{"IPv4 and IPv6", []Subnet{v4, v6}, nil},
		{"order of the enum, not of the input", []Subnet{{NetworkTypes: []string{DualStack, IPv6, IPv4}}}, []string{IPv4, IPv6, DualStack}},
	}
	for _, tc := range cases {
		if d := cmp.Diff(tc.want, GroupNetworkTypes(tc.subnets)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}

func TestIDForms(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"subnet-12345678": true, "subnet-0123456789abcdef0": true, "subnet-1234567": false,
		"subnet-0123456789abcdef": false, "subnet-": false, "Subnet-12345678": false, "subnet-1234567G": false,
	}
	for id, want := range cases {
		if IsSubnetID(id) != want {
			t.Errorf("IsSubnetID(%q) = %v", id, !want)
		}
		vpc := "vpc-" + strings.TrimPrefix(id, "subnet-")
		if strings.HasPrefix(id, "subnet-") && IsVPCID(vpc) != want {
			t.Errorf("IsVPCID(%q) = %v", vpc, !want)
		}
	}
}
