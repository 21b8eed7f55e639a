package server

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
)

func TestAuthenticatorNoneHonoursRegions(t *testing.T) {
	t.Parallel()
	m := NewMain(Config{DefaultAccount: "000000000000", DefaultRegion: "us-east-1", Regions: "us-east-1,eu-west-1"}, nil)
	auth, err := m.authenticator(FileConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for region, wantErr := range map[string]bool{"eu-west-1": false, "us-east-1": false, "ap-south-1": true} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=111111111111/20261123/"+region+"/elasticache/aws4_request, SignedHeaders=host, Signature=0")
		c, err := auth(r, nil, nil)
		var f api.Fault
		switch {
		case wantErr && (!errors.As(err, &f) || f.ErrorCode() != "SignatureDoesNotMatch"):
			t.Errorf("%s: %v, want SignatureDoesNotMatch", region, err)
		case !wantErr && (err != nil || c.Region != region || c.AccountID != "111111111111"):
			t.Errorf("%s: %+v, %v", region, c, err)
		}
	}
	// A default region outside the list is a start-up error.
	m = NewMain(Config{DefaultRegion: "us-west-2", Regions: "us-east-1"}, nil)
	if _, err := m.authenticator(FileConfig{}); err == nil {
		t.Fatal("default region outside --regions accepted")
	}
}

func TestAuthenticatorSigV4NeedsCredentials(t *testing.T) {
	t.Parallel()
	m := NewMain(Config{Auth: AuthSigV4}, nil)
	if _, err := m.authenticator(FileConfig{Accounts: []AccountEntry{{ID: "111111111111"}}}); err == nil {
		t.Fatal("sigv4 without credentials accepted")
	}
	auth, err := m.authenticator(FileConfig{Accounts: []AccountEntry{{ID: "111111111111",
		Credentials: []CredentialEntry{{AccessKeyID: "AKIAEXAMPLE111111", SecretAccessKey: "s"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = auth(httptest.NewRequest("POST", "/", nil), nil, nil)
	var f api.Fault
	if !errors.As(err, &f) || f.ErrorCode() != "MissingAuthenticationToken" || f.HTTPStatus() != 403 {
		t.Fatalf("unsigned request: %v", err)
	}
}
