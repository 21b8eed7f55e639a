package service

import (
	"context"
	"fmt"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// The service layer's share of a request: validation, the transaction and
// the records, on a bbolt store without fsync (the disk's share is
// storage/bolt's benchmarks, and the whole request's is api's). Run with
// -cpu 2 to match the machine the targets are set for.

// seedGroups stores n groups seed-000000… in ctx's scope, many per
// transaction: setup, not what is measured.
func seedGroups(tb testing.TB, f *fixture, ctx context.Context, n int) {
	tb.Helper()
	sc, err := scopeOf(ctx)
	mustOK(tb, err)
	now := f.clock.Now()
	for start := 0; start < n; start += 5000 {
		end := min(start+5000, n)
		err := f.store.Update(context.Background(), func(tx storage.Tx) error {
			for i := start; i < end; i++ {
				rec := &groupRecord{Name: fmt.Sprintf("seed-%06d", i), Description: "bench seed group", Created: now}
				if err := securityGroups.Insert(tx, sc, rec); err != nil {
					return err
				}
				if err := schema.PutTags(tx, sc, securityGroupKind, rec.Name, schema.Tags{"bench": "benchval"}); err != nil {
					return err
				}
			}
			return nil
		})
		mustOK(tb, err)
	}
}

func BenchmarkCreate(b *testing.B) {
	f := newFixture(b, Config{CacheSecurityGroupQuota: 1 << 30})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, err := f.svc.CreateCacheSecurityGroup(ctxA, &api.CreateCacheSecurityGroupInput{
			CacheSecurityGroupName: s(fmt.Sprintf("group-%09d", i)), Description: s("bench group"),
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkDescribeByName(b *testing.B) {
	f := newFixture(b, Config{})
	seedGroups(b, f, ctxA, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{
			CacheSecurityGroupName: s(fmt.Sprintf("seed-%06d", i%100)),
		})
		if err != nil || len(out.CacheSecurityGroups) != 1 {
			b.Fatal(out, err)
		}
		i++
	}
}

// BenchmarkDescribePage reads the first page of 100 with 100 and with
// 100,000 groups stored: a page must cost the same either way.
func BenchmarkDescribePage(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", n), func(b *testing.B) {
			f := newFixture(b, Config{})
			seedGroups(b, f, ctxA, n)
			b.ReportAllocs()
			for b.Loop() {
				out, err := f.svc.DescribeCacheSecurityGroups(ctxA, &api.DescribeCacheSecurityGroupsInput{MaxRecords: i32(100)})
				if err != nil || len(out.CacheSecurityGroups) != 100 || out.Marker == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAddTags(b *testing.B) {
	f := newFixture(b, Config{})
	seedGroups(b, f, ctxA, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		arn := "arn:aws:elasticache:us-east-1:111111111111:securitygroup:" + fmt.Sprintf("seed-%06d", i%100)
		_, err := f.svc.AddTagsToResource(ctxA, &api.AddTagsToResourceInput{
			ResourceName: &arn, Tags: []api.Tag{{Key: s("bench"), Value: s("benchval")}},
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkListTags(b *testing.B) {
	f := newFixture(b, Config{})
	seedGroups(b, f, ctxA, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		arn := "arn:aws:elasticache:us-east-1:111111111111:securitygroup:" + fmt.Sprintf("seed-%06d", i%100)
		out, err := f.svc.ListTagsForResource(ctxA, &api.ListTagsForResourceInput{ResourceName: &arn})
		if err != nil || len(out.TagList) != 1 {
			b.Fatal(out, err)
		}
		i++
	}
}

// BenchmarkCatalogueReads: a family's parameters (a page of 100: redis7's
// 65 and its node-type-specific ones, of a stored group with values set)
// and every engine version, answered from the in-memory catalogue; run
// beside BenchmarkDescribeByName, their baseline.
func BenchmarkCatalogueReads(b *testing.B) {
	f := newFixture(b, Config{})
	_, err := f.svc.CreateCacheParameterGroup(ctxA, &api.CreateCacheParameterGroupInput{
		CacheParameterGroupName: s("bench"), CacheParameterGroupFamily: s("redis7"), Description: s("d")})
	mustOK(b, err)
	_, err = f.svc.ModifyCacheParameterGroup(ctxA, &api.ModifyCacheParameterGroupInput{CacheParameterGroupName: s("bench"),
		ParameterNameValues: []api.ParameterNameValue{{ParameterName: s("maxmemory-policy"), ParameterValue: s("allkeys-lru")}}})
	mustOK(b, err)
	b.Run("DescribeCacheParameters", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := f.svc.DescribeCacheParameters(ctxA, &api.DescribeCacheParametersInput{CacheParameterGroupName: s("bench"), MaxRecords: i32(100)})
			if err != nil || len(out.Parameters) < 60 || out.Marker != nil {
				b.Fatal(out, err)
			}
		}
	})
	b.Run("DescribeCacheEngineVersions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := f.svc.DescribeCacheEngineVersions(ctxA, &api.DescribeCacheEngineVersionsInput{MaxRecords: i32(100)})
			if err != nil || len(out.CacheEngineVersions) < 30 {
				b.Fatal(out, err)
			}
		}
	})
}
