package server

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticache-server/elasticache-server/faultinject"
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
		"111111111111": {Modern: true, CacheSecurityGroupQuota: 10},
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
