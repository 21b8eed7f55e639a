package cluster

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticache/types"

	"github.com/elasticache-server/elasticache-server/internal/etcdtest"
)

// TestEtcdTLS runs two servers on a member that requires TLS with client
// certificates, configured through --etcd-cert, --etcd-key and --etcd-ca.
func TestEtcdTLS(t *testing.T) {
	t.Parallel()
	c, files := etcdtest.StartTLSCluster(t, 1)
	var addrs [2]string
	for i, name := range []string{"A", "B"} {
		cfg := etcdConfig(t, c, "/tls/")
		cfg.EtcdCert, cfg.EtcdKey, cfg.EtcdCA = files.Cert, files.Key, files.CA
		addrs[i] = startMain(t, name, cfg).Addr()
	}
	a := newClient(t, addrs[0], "444444444444", 30*time.Second)
	b := newClient(t, addrs[1], "444444444444", 30*time.Second)
	mustCreate(t, a, "over-tls")
	if err := create(t.Context(), b, "over-tls"); !errors.As(err, new(*types.CacheSecurityGroupAlreadyExistsFault)) {
		t.Errorf("second create through the other server: %v, want AlreadyExists", err)
	}
	if got := listNames(t, b); !slices.Equal(got, []string{"over-tls"}) {
		t.Errorf("server B lists %q, want [over-tls]", got)
	}
}
