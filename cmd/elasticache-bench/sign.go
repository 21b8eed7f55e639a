package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/elasticache-server/elasticache-server/internal/benchworkload"
)

// requestSigner writes requests as a client would: botocore's headers, and
// a credential naming the account when there is one.
type requestSigner struct {
	sign       bool // SigV4 with the SDK's signer
	credential bool // an Authorization header naming the account, unsigned
	signer     *v4.Signer
}

// benchSecret signs requests; the server does not verify signatures.
const benchSecret = "bench-secret-access-key"

// defaultAccessKey is the key of signed requests without -accounts: not 12
// digits, so the server maps it to its default account.
const defaultAccessKey = "AKIDBENCHEXAMPLE"

func newRequestSigner(sign, credential bool) (*requestSigner, error) {
	s := &requestSigner{sign: sign, credential: credential}
	if sign {
		s.signer = v4.NewSigner()
	}
	return s, nil
}

// request appends to buf an HTTP/1.1 POST of body to addr on behalf of
// account.
func (s *requestSigner) request(buf []byte, addr, account string, body []byte) ([]byte, error) {
	buf = append(buf, "POST / HTTP/1.1\r\nHost: "...)
	buf = append(buf, addr...)
	buf = append(buf, "\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(body)), 10)
	buf = append(buf, "\r\n"...)
	switch {
	case s.sign:
		key := defaultAccessKey
		if s.credential {
			key = account
		}
		r, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", nil)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		r.ContentLength = int64(len(body))
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: benchSecret}
		if err := s.signer.SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "elasticache", benchworkload.Region, time.Now()); err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		for _, h := range []string{"X-Amz-Date", "Authorization"} {
			buf = append(buf, h...)
			buf = append(buf, ": "...)
			buf = append(buf, r.Header.Get(h)...)
			buf = append(buf, "\r\n"...)
		}
	case s.credential:
		// The shape of a real header, so the server parses the same bytes;
		// it never checks the signature.
		buf = append(buf, "Authorization: AWS4-HMAC-SHA256 Credential="...)
		buf = append(buf, account...)
		buf = append(buf, "/20260101/"+benchworkload.Region+"/elasticache/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	return append(buf, body...), nil
}
