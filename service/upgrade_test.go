package service

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// A store written by a version-1 server (tags inside the group records) is
// upgraded at Open: the tags move under t/, in transactions small enough
// for etcd, and every answer is what it was.
func TestUpgradeFromLayoutVersion1(t *testing.T) {
	t.Parallel()
	st := openStore(t, "")
	const groups = 120 // more than one upgrade transaction holds
	mustOK(t, st.Update(context.Background(), func(tx storage.Tx) error {
		if err := tx.Put([]byte("m/schema"), []byte(`{"version":1}`)); err != nil {
			return err
		}
		for i := range groups {
			rec := fmt.Sprintf(`{"v":1,"name":"g%03d","description":"d","created":"2026-11-23T12:00:00Z","tags":{"env":"e%d"}}`, i, i)
			if i%2 == 1 { // some groups have no tags at all
				rec = fmt.Sprintf(`{"v":1,"name":"g%03d","description":"d","created":"2026-11-23T12:00:00Z"}`, i)
			}
			if err := tx.Put([]byte(fmt.Sprintf("a/111111111111/us-east-1/csg/g%03d", i)), []byte(rec)); err != nil {
				return err
			}
		}
		return tx.Put([]byte("a/111111111111/us-east-1/n/csg"), []byte(fmt.Sprint(groups)))
	}))
	svc, err := Open(context.Background(), st, newFakeClock(), Config{Quotas: map[string]int{"cacheSecurityGroups": groups}})
	mustOK(t, err)
	keys := dumpStore(t, st)
	if keys["m/schema"] != `{"version":2}` {
		t.Fatalf("schema after upgrade = %s", keys["m/schema"])
	}
	for i := range groups {
		var rec map[string]any
		mustOK(t, json.Unmarshal([]byte(keys[fmt.Sprintf("a/111111111111/us-east-1/csg/g%03d", i)]), &rec))
		if _, ok := rec["tags"]; ok {
			t.Fatalf("g%03d still has tags in its record: %v", i, rec)
		}
		tl, err := svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: s(fmt.Sprintf("arn:aws:elasticache:us-east-1:111111111111:securitygroup:g%03d", i))})
		mustOK(t, err)
		switch {
		case i%2 == 0 && (len(tl.TagList) != 1 || *tl.TagList[0].Value != fmt.Sprintf("e%d", i)):
			t.Fatalf("tags of g%03d = %v", i, tl.TagList)
		case i%2 == 1 && len(tl.TagList) != 0:
			t.Fatalf("tags of g%03d = %v, want none", i, tl.TagList)
		}
	}
	// The counter still holds the quota; a second Open writes nothing.
	_, err = svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{CacheSecurityGroupName: s("one-more"), Description: s("d")})
	wantFault(t, err, "QuotaExceeded.CacheSecurityGroup", 400, "")
	_, err = Open(context.Background(), st, newFakeClock(), Config{})
	mustOK(t, err)
	if after := dumpStore(t, st); len(after) != len(keys) {
		t.Fatalf("a second Open changed the store: %d keys, then %d", len(keys), len(after))
	}
}
