package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/faultinject"
	"github.com/elasticache-server/elasticache-server/network"
	"github.com/elasticache-server/elasticache-server/service"
)

func TestParseFileConfig(t *testing.T) {
	t.Parallel()
	fc, err := ParseFileConfig(strings.NewReader(`
accounts:
  - id: "111111111111"
    era: modern
    quotas:
      cacheSecurityGroups: 10
  - id: "222222222222"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]service.AccountConfig{
		"111111111111": {Modern: true, Quotas: map[string]int{"cacheSecurityGroups": 10}},
		"222222222222": {},
	}
	if d := cmp.Diff(want, fc.serviceAccounts()); d != "" {
		t.Fatalf("accounts (-want +got):\n%s", d)
	}
	withKeys, err := ParseFileConfig(strings.NewReader(`
accounts:
  - id: "111111111111"
    credentials:
      - accessKeyId: AKIAEXAMPLE111111
        secretAccessKey: "secret/with+chars="
`))
	if err != nil {
		t.Fatal(err)
	}
	if c := withKeys.credentials()["AKIAEXAMPLE111111"]; c.AccountID != "111111111111" || c.SecretAccessKey != "secret/with+chars=" {
		t.Fatalf("credentials = %+v", withKeys.credentials())
	}
	empty, err := ParseFileConfig(strings.NewReader(""))
	if err != nil || len(empty.Accounts) != 0 {
		t.Fatalf("empty file: %+v, %v", empty, err)
	}
}

func TestParseFileConfigErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, want string }{
		{"unknown top-level key", "acounts: []\n", "line 1"},
		{"unknown account key", "accounts:\n  - id: \"111111111111\"\n    eras: modern\n", "line 3"},
		{"unknown quota key", "accounts:\n  - id: \"111111111111\"\n    quotas:\n      groups: 3\n", "line 4"},
		{"bad era", "accounts:\n  - id: \"111111111111\"\n    era: ancient\n", "line 3: era must be classic or modern"},
		{"short id", "accounts:\n  - id: \"1111\"\n", "line 2: id must be a 12-digit account ID"},
		{"quota zero", "accounts:\n  - id: \"111111111111\"\n    quotas:\n      cacheSecurityGroups: 0\n", "line 4: must be a whole number of at least 1"},
		{"quota text", "accounts:\n  - id: \"111111111111\"\n    quotas:\n      cacheSecurityGroups: many\n", "line 4"},
		{"missing id", "accounts:\n  - era: modern\n", "line 2: an account needs an id"},
		{"duplicate id", "accounts:\n  - id: \"111111111111\"\n  - id: \"111111111111\"\n", "line 3: account 111111111111 is already configured on line 2"},
		{"not YAML", "accounts: [\n", "line"},
		{"short access key", "accounts:\n  - id: \"111111111111\"\n    credentials:\n      - accessKeyId: AKIA\n        secretAccessKey: s\n", "line 4: accessKeyId must be 16 to 128"},
		{"empty secret", "accounts:\n  - id: \"111111111111\"\n    credentials:\n      - accessKeyId: AKIAEXAMPLE111111\n        secretAccessKey: \"\"\n", "line 5: secretAccessKey must be a non-empty string"},
		{"missing secret", "accounts:\n  - id: \"111111111111\"\n    credentials:\n      - accessKeyId: AKIAEXAMPLE111111\n", "needs accessKeyId and secretAccessKey"},
		{"unknown credential key", "accounts:\n  - id: \"111111111111\"\n    credentials:\n      - accessKey: AKIAEXAMPLE111111\n", "line 4"},
		{"unknown journal key", "journal:\n  sise: 10\n", "line 2"},
		{"journal size zero", "journal:\n  size: 0\n", "line 2: size must be a whole number from 1 to"},
		{"journal size text", "journal:\n  size: big\n", "line 2: size must be"},
		{"unknown faults key", "faults:\n  sed: 1\n", "line 2"},
		{"negative seed", "faults:\n  seed: -1\n", "line 2: seed must be a whole number"},
		{"rule not a mapping", "faults:\n  rules:\n    - Throttling\n", "line 3: a fault rule must be a mapping"},
		{"unknown rule key", "faults:\n  rules:\n    - error: Throttling\n      cout: 2\n", "line 4: unknown key \"cout\" in a fault rule"},
		{"unknown error", "faults:\n  rules:\n    - action: CreateCacheSecurityGroup\n      error: Throttled\n", "line 4: fault rule: error: must be Throttling, ServiceUnavailable or InternalFailure"},
		{"unknown action", "faults:\n  rules:\n    - error: Throttling\n      action: CreateGroup\n", "line 4: fault rule: action:"},
		{"rule without effect", "faults:\n  rules:\n    - error: Throttling\n    - action: CreateCacheSecurityGroup\n", "line 4: fault rule: error: a rule needs an error, a delay or both"},
		{"error not a string", "faults:\n  rules:\n    - error: [Throttling]\n", "line 3: error must be a string"},
		{"account unquoted", "faults:\n  rules:\n    - error: Throttling\n      account: 111111111111\n", "line 4: account must be a 12-digit account ID in quotes"},
		{"bad delay", "faults:\n  rules:\n    - delay: soon\n", "line 3: delay must be a duration"},
		{"delay too long", "faults:\n  rules:\n    - delay: 11m\n", "line 3: fault rule: delay: must be between 0 and 10m0s"},
		{"count text", "faults:\n  rules:\n    - error: Throttling\n      count: two\n", "line 4: count must be a whole number"},
		{"negative count", "faults:\n  rules:\n    - error: Throttling\n      count: -2\n", "line 4: fault rule: count:"},
		{"probability too high", "faults:\n  rules:\n    - error: Throttling\n      probability: 1.5\n", "line 4: fault rule: probability: must be more than 0 and at most 1"},
		{"probability text", "faults:\n  rules:\n    - error: Throttling\n      probability: half\n", "line 4: probability must be a number"},
		{"rule seed negative", "faults:\n  rules:\n    - error: Throttling\n      seed: -3\n", "line 4: seed must be a whole number"},
		{"key in two accounts", "accounts:\n  - id: \"111111111111\"\n    credentials: [{accessKeyId: AKIAEXAMPLE111111, secretAccessKey: a}]\n  - id: \"222222222222\"\n    credentials: [{accessKeyId: AKIAEXAMPLE111111, secretAccessKey: b}]\n", "line 4: access key AKIAEXAMPLE111111 is already configured for the account on line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFileConfig(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseFileConfigJournalAndFaults(t *testing.T) {
	t.Parallel()
	fc, err := ParseFileConfig(strings.NewReader(`
journal:
  size: 25
faults:
  seed: 18446744073709551615
  rules:
    - action: CreateCacheSecurityGroup
      error: Throttling
      count: 2
    - action: "*"
      account: "111111111111"
      region: eu-west-1
      error: ServiceUnavailable
      probability: 0.25
      seed: 7
    - delay: 1.5s
`))
	if err != nil {
		t.Fatal(err)
	}
	if fc.Journal.Size != 25 || fc.Faults.Seed != 18446744073709551615 {
		t.Errorf("journal size %d, seed %d", fc.Journal.Size, fc.Faults.Seed)
	}
	p, seed := 0.25, uint64(7)
	want := []faultinject.Rule{
		{Action: "CreateCacheSecurityGroup", Error: faultinject.Throttling, Count: 2},
		{Action: "*", Account: "111111111111", Region: "eu-west-1", Error: faultinject.ServiceUnavailable, Probability: &p, Seed: &seed},
		{Delay: faultinject.Duration(1500 * time.Millisecond)},
	}
	if d := cmp.Diff(want, fc.faultRules()); d != "" {
		t.Errorf("rules (-want +got):\n%s", d)
	}
	none, err := ParseFileConfig(strings.NewReader("accounts: []\n"))
	if err != nil || none.Journal.Size != 0 || len(none.faultRules()) != 0 || none.Faults.Seed != 0 {
		t.Errorf("a file without journal and faults: %+v, %v", none, err)
	}
}

func TestParseFileConfigNetworks(t *testing.T) {
	t.Parallel()
	fc, err := ParseFileConfig(strings.NewReader(`
accounts:
  - id: "111111111111"
    strictSubnets: true
  - id: "222222222222"
    strictSubnets: false
  - id: "333333333333"
networks:
  - account: "111111111111"
    region: us-east-1
    vpcs:
      - id: vpc-0a1b2c3d4e5f60718
        subnets:
          - id: subnet-0123456789abcdef0
            availabilityZone: us-east-1a
          - id: subnet-11111111
            availabilityZone: us-east-1f
            ipv4: false
            ipv6: true
          - id: subnet-22222222
            availabilityZone: us-east-1b
            ipv6: true
  - region: eu-west-1
    vpcs:
      - id: vpc-33333333
        subnets: [{id: subnet-33333333, availabilityZone: eu-west-1c, ipv4: true}]
      - id: vpc-44444444
`))
	if err != nil {
		t.Fatal(err)
	}
	want := network.Config{
		Networks: []network.Network{
			{Account: "111111111111", Region: "us-east-1", VPCs: []network.VPC{{ID: "vpc-0a1b2c3d4e5f60718", Subnets: []network.DeclaredSubnet{
				{ID: "subnet-0123456789abcdef0", AvailabilityZone: "us-east-1a", IPv4: true},
				{ID: "subnet-11111111", AvailabilityZone: "us-east-1f", IPv6: true},
				{ID: "subnet-22222222", AvailabilityZone: "us-east-1b", IPv4: true, IPv6: true},
			}}}},
			{Region: "eu-west-1", VPCs: []network.VPC{
				{ID: "vpc-33333333", Subnets: []network.DeclaredSubnet{{ID: "subnet-33333333", AvailabilityZone: "eu-west-1c", IPv4: true}}},
				{ID: "vpc-44444444"},
			}},
		},
		Strict: map[string]bool{"111111111111": true},
	}
	if d := cmp.Diff(want, fc.networkConfig()); d != "" {
		t.Fatalf("network config (-want +got):\n%s", d)
	}
	m, err := network.New(fc.networkConfig())
	if err != nil {
		t.Fatal(err)
	}
	if s, err := m.Subnet("111111111111", "us-east-1", "subnet-22222222"); err != nil || !cmp.Equal(s.NetworkTypes, []string{network.IPv4, network.DualStack}) {
		t.Errorf("declared dual-stack subnet: %+v, %v", s, err)
	}
	if _, err := m.Subnet("111111111111", "us-east-1", "subnet-99999999"); !errors.Is(err, network.ErrUnknownSubnet) {
		t.Errorf("strict account, undeclared subnet: %v", err)
	}
	if _, err := m.Subnet("333333333333", "us-east-1", "subnet-99999999"); err != nil {
		t.Errorf("account without strictSubnets, undeclared subnet: %v", err)
	}
	none, err := ParseFileConfig(strings.NewReader("accounts: []\n"))
	if err != nil || !cmp.Equal(none.networkConfig(), network.Config{}) {
		t.Errorf("a file without networks: %+v, %v", none.networkConfig(), err)
	}
}

func TestParseFileConfigNetworkErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	head := "networks:\n  - region: us-east-1\n    vpcs:\n      - id: vpc-12345678\n        subnets:\n"
	cases := []struct{ name, doc, want string }{
		{"unknown network key", "networks:\n  - regoin: us-east-1\n", "line 2"},
		{"unknown VPC key", "networks:\n  - region: us-east-1\n    vpcs:\n      - vpc: vpc-12345678\n", "line 4"},
		{"unknown subnet key", head + "          - id: subnet-12345678\n            az: us-east-1a\n", "line 7"},
		{"account unquoted", "networks:\n  - account: 111111111111\n    region: us-east-1\n", "line 2: account must be a 12-digit account ID in quotes"},
		{"account short", "networks:\n  - account: \"1111\"\n    region: us-east-1\n", "line 2: account must be a 12-digit account ID"},
		{"bad region", "networks:\n  - region: US-East-1\n", "line 2: \"US-East-1\" is not a region name"},
		{"missing region", "networks:\n  - vpcs: []\n", "line 2: \"\" is not a region name"},
		{"bad VPC id", "networks:\n  - region: us-east-1\n    vpcs:\n      - id: vpc-123\n", "line 4: \"vpc-123\" is not a VPC id"},
		{"missing VPC id", "networks:\n  - region: us-east-1\n    vpcs:\n      - subnets: []\n", "line 4: \"\" is not a VPC id"},
		{"bad subnet id", head + "          - id: subnet-0123456789ABCDEF0\n            availabilityZone: us-east-1a\n", "line 6: \"subnet-0123456789ABCDEF0\" is not a subnet id"},
		{"zone of another region", head + "          - id: subnet-12345678\n            availabilityZone: eu-west-1a\n", "line 7: \"eu-west-1a\" is not an availability zone of us-east-1 (us-east-1a, us-east-1b"},
		{"missing zone", head + "          - id: subnet-12345678\n", "line 6: \"\" is not an availability zone of us-east-1"},
		{"neither family", head + "          - id: subnet-12345678\n            availabilityZone: us-east-1a\n            ipv4: false\n", "line 8: a subnet needs ipv4, ipv6 or both"},
		{"flag not a bool", head + "          - id: subnet-12345678\n            availabilityZone: us-east-1a\n            ipv6: maybe\n", "line 8"},
		{"subnet twice", head + "          - {id: subnet-12345678, availabilityZone: us-east-1a}\n          - {id: subnet-12345678, availabilityZone: us-east-1b}\n", "line 7: subnet subnet-12345678 is declared twice (first on line 6)"},
		{"subnet in two entries", head + "          - {id: subnet-12345678, availabilityZone: us-east-1a}\n  - account: \"111111111111\"\n    region: us-east-1\n    vpcs: [{id: vpc-87654321, subnets: [{id: subnet-12345678, availabilityZone: us-east-1a}]}]\n",
			"line 9: subnet subnet-12345678 is declared twice (first on line 6)"},
		{"VPC twice", "networks:\n  - region: us-east-1\n    vpcs:\n      - id: vpc-12345678\n      - id: vpc-12345678\n", "line 5: VPC vpc-12345678 is declared twice (first on line 4)"},
		{"strictSubnets not a bool", "accounts:\n  - id: \"111111111111\"\n    strictSubnets: yes please\n", "line 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFileConfig(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
