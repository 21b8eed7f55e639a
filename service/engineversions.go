package service

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/catalogue"
)

// The engine catalogue's two read operations: engine versions, and a
// family's engine-default parameters. Both answer from the pinned
// catalogue, never the store.

const (
	opDescribeEngineVersions  = "DescribeCacheEngineVersions"
	opDescribeEngineDefaults  = "DescribeEngineDefaultParameters"
	paramParameterGroupFamily = "CacheParameterGroupFamily"
)

// DescribeCacheEngineVersions lists the catalogue's engine versions,
// filtered by engine, version and family; DefaultOnly keeps each engine's
// default version. Pages are in catalogue order: engine, then version.
func (s *ElastiCache) DescribeCacheEngineVersions(ctx context.Context, in *api.DescribeCacheEngineVersionsInput) (*api.DescribeCacheEngineVersionsOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	if in.Engine != nil && !contains(catalogue.Engines(), strings.ToLower(*in.Engine)) {
		return nil, invalid("Engine", fmt.Sprintf("must be one of %s.", strings.Join(catalogue.Engines(), ", ")))
	}
	if in.CacheParameterGroupFamily != nil {
		if _, ok := catalogue.Family(*in.CacheParameterGroupFamily); !ok {
			return nil, invalid(paramParameterGroupFamily, fmt.Sprintf("%s is not a cache parameter group family.", *in.CacheParameterGroupFamily))
		}
	}
	pg, err := s.pageRequest(opDescribeEngineVersions, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	defaultOnly := in.DefaultOnly != nil && *in.DefaultOnly
	var matched []renderedVersion
	for _, v := range renderedVersions() {
		switch {
		case in.Engine != nil && *v.api.Engine != strings.ToLower(*in.Engine),
			in.EngineVersion != nil && !versionMatches(*v.api.EngineVersion, *in.EngineVersion),
			in.CacheParameterGroupFamily != nil && *v.api.CacheParameterGroupFamily != *in.CacheParameterGroupFamily,
			defaultOnly && !v.isDefault:
			continue
		}
		matched = append(matched, v)
	}
	page, marker := pageOf(s, opDescribeEngineVersions, sc, matched, pg, func(v renderedVersion) string { return v.key })
	out := &api.DescribeCacheEngineVersionsOutput{CacheEngineVersions: make([]api.CacheEngineVersion, 0, len(page)), Marker: marker}
	for _, v := range page {
		out.CacheEngineVersions = append(out.CacheEngineVersions, v.api)
	}
	return out, nil
}

// renderedVersion is a catalogue version as the API shows it, rendered
// once (answers share it; nothing changes it), with its position in the
// catalogue's order (zero-padded, so positions compare as the order does)
// and whether it is its engine's default.
type renderedVersion struct {
	key       string
	api       api.CacheEngineVersion
	isDefault bool
}

var renderedVersions = sync.OnceValue(func() []renderedVersion {
	var out []renderedVersion
	for i, v := range catalogue.Versions("") {
		out = append(out, renderedVersion{
			key: fmt.Sprintf("%04d", i),
			api: api.CacheEngineVersion{
				Engine:                        ptr(v.Engine),
				EngineVersion:                 ptr(v.EngineVersion),
				CacheParameterGroupFamily:     ptr(v.CacheParameterGroupFamily),
				CacheEngineDescription:        optional(v.CacheEngineDescription),
				CacheEngineVersionDescription: optional(v.CacheEngineVersionDescription),
			},
			isDefault: isDefaultVersion(v),
		})
	}
	return out
})

// versionMatches: a version asked for as major.minor (7.1, 6.x) matches
// every patch of it, as Terraform and AWS's own filters treat them.
func versionMatches(have, want string) bool {
	if have == want {
		return true
	}
	want = strings.TrimSuffix(want, ".x")
	return strings.HasPrefix(have, want+".")
}

// isDefaultVersion is the catalogue's default mark, or, where the
// catalogue marks none for an engine, its newest version.
func isDefaultVersion(v catalogue.EngineVersion) bool {
	versions := catalogue.Versions(v.Engine)
	for _, x := range versions {
		if x.Default {
			return v.Default
		}
	}
	return versions[len(versions)-1].EngineVersion == v.EngineVersion
}

// DescribeEngineDefaultParameters returns a family's engine defaults, a
// page at a time, the node-type-specific ones with the last page.
func (s *ElastiCache) DescribeEngineDefaultParameters(ctx context.Context, in *api.DescribeEngineDefaultParametersInput) (*api.DescribeEngineDefaultParametersOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	family := *in.CacheParameterGroupFamily
	fam, ok := renderedFamilies()[family]
	if !ok {
		return nil, invalid(paramParameterGroupFamily, fmt.Sprintf("%s is not a cache parameter group family.", family))
	}
	pg, err := s.pageRequest(opDescribeEngineDefaults, sc, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	page, marker := pageOf(s, opDescribeEngineDefaults, sc, fam.params, pg, func(p api.Parameter) string { return *p.ParameterName })
	d := &api.EngineDefaults{CacheParameterGroupFamily: &family, Parameters: page, Marker: marker,
		CacheNodeTypeSpecificParameters: []api.CacheNodeTypeSpecificParameter{}}
	if marker == nil {
		d.CacheNodeTypeSpecificParameters = fam.nodeParams
	}
	return &api.DescribeEngineDefaultParametersOutput{EngineDefaults: d}, nil
}
