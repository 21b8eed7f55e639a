package server

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

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
