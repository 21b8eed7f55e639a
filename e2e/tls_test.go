package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/elasticache-server/elasticache-server/server"
)

// selfSignedCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// its key as PEM files into a temp dir; it returns their paths and the
// certificate.
func selfSignedCert(tb testing.TB) (certFile, keyFile string, cert *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "elasticache-server e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return certFile, keyFile, cert
}

// withTLS makes the server speak HTTPS with the given PEM files.
func withTLS(certFile, keyFile string) serverOption {
	return func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }
}

// tlsHTTPClient is an HTTP client that trusts exactly roots (nil: the
// system's roots) and never uses a proxy.
func tlsHTTPClient(tb testing.TB, roots *x509.CertPool) *http.Client {
	tr := newTransport(tb)
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	tr.TLSHandshakeTimeout = 5 * time.Second
	return &http.Client{Transport: plainBodies{tr}, Timeout: 30 * time.Second}
}

// TestTLS starts a sigv4-mode server with --tls-cert and --tls-key: the Go
// SDK trusting the certificate runs every operation over HTTPS; a client
// that does not trust it, or that speaks plain HTTP to the port, gets no
// answer from the API and changes nothing.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, cert := selfSignedCert(t)
	s := startSigV4Server(t, 0, withTLS(certFile, keyFile))
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	trusting := tlsHTTPClient(t, roots)
	creds := aws.Credentials{AccessKeyID: sigKey1, SecretAccessKey: sigSecret1}
	c := sigClient(t, "https://"+s.Addr, creds, "eu-west-1", trusting)

	t.Run("every operation over HTTPS", func(t *testing.T) {
		t0 := time.Now().Add(-time.Second)
		const name = "over-tls"
		arn := groupARN("eu-west-1", sigAccount1, name)
		g := create(t, c, name, "over TLS", tag("tls", "yes"))
		wantGroup(t, g, sigAccount1, "eu-west-1", name, "over TLS")
		wantDescribed(t, c, sigAccount1, "eu-west-1", name, "over TLS")
		mustAuthorize(t, c, name, "web", ownerA)
		mustRevoke(t, c, name, "web", ownerA)
		mustAddTags(t, c, arn, []types.Tag{tag("more", "1")}, tag("more", "1"), tag("tls", "yes"))
		wantListed(t, c, arn, tag("more", "1"), tag("tls", "yes"))
		mustRemoveTags(t, c, arn, []string{"more"}, tag("tls", "yes"))
		if _, err := c.DeleteCacheSecurityGroup(t.Context(), &elasticache.DeleteCacheSecurityGroupInput{CacheSecurityGroupName: aws.String(name)}); err != nil {
			t.Fatalf("delete: %v", err)
		}
		out, err := c.DescribeEvents(t.Context(), &elasticache.DescribeEventsInput{SourceType: types.SourceTypeCacheSecurityGroup, SourceIdentifier: aws.String(name)})
		if err != nil {
			t.Fatalf("describe events: %v", err)
		}
		wantEventMessages(t, toEvents(t, out.Events), t0, time.Now().Add(time.Second),
			msgDeleted, msgRevoked("web", ownerA), msgAuthorized("web", ownerA), msgCreated)
		// Signatures are still checked over TLS.
		_, err = sigClient(t, "https://"+s.Addr, aws.Credentials{AccessKeyID: sigKey1, SecretAccessKey: "wrong"}, "eu-west-1", trusting).
			DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{})
		if problem := checkAPIErr(err, sigMismatch); problem != nil {
			t.Errorf("wrong secret over TLS: %v", problem)
		}
		resp, err := trusting.Get("https://" + s.Addr + "/health")
		if err != nil {
			t.Fatalf("GET /health over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("GET /health over TLS: HTTP %d, TLS %+v", resp.StatusCode, resp.TLS)
		}
	})

	t.Run("a client that does not trust the certificate fails", func(t *testing.T) {
		_, err := sigClient(t, "https://"+s.Addr, creds, "eu-west-1", tlsHTTPClient(t, x509.NewCertPool())).
			CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("untrusted"), Description: aws.String("d"),
			})
		var unknownAuthority x509.UnknownAuthorityError
		if !errors.As(err, &unknownAuthority) {
			t.Errorf("create with a client that does not trust the certificate: %v, want an x509.UnknownAuthorityError", err)
		}
	})

	t.Run("plain HTTP to the TLS port fails", func(t *testing.T) {
		_, err := sigClient(t, "http://"+s.Addr, creds, "eu-west-1", nil).
			CreateCacheSecurityGroup(t.Context(), &elasticache.CreateCacheSecurityGroupInput{
				CacheSecurityGroupName: aws.String("plain"), Description: aws.String("d"),
			})
		if err == nil {
			t.Fatal("create over plain HTTP to the TLS port succeeded")
		}
		// net/http's TLS server answers a plain HTTP request with a bare
		// 400 of its own, not an API answer: no request ID, no XML.
		resp, err := (&http.Client{Transport: newTransport(t), Timeout: 10 * time.Second}).Post("http://"+s.Addr+"/",
			"application/x-www-form-urlencoded", strings.NewReader("Action=DescribeCacheSecurityGroups&Version=2015-02-02"))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.Header.Get("x-amzn-RequestId") != "" || strings.Contains(string(body), "<") {
				t.Errorf("plain HTTP to the TLS port: HTTP %d %v\n%s", resp.StatusCode, resp.Header, body)
			}
		}
		for _, name := range []string{"untrusted", "plain"} {
			_, err := c.DescribeCacheSecurityGroups(t.Context(), &elasticache.DescribeCacheSecurityGroupsInput{CacheSecurityGroupName: aws.String(name)})
			wantErr[*types.CacheSecurityGroupNotFoundFault](t, err, notFound(name))
		}
	})
}
