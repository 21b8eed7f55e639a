package service

import (
	"context"
	"fmt"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/service/schema"
	"github.com/elasticache-server/elasticache-server/storage"
)

// tagged is a tag operation's resource: its kind and name in the caller's
// scope.
type tagged struct {
	kind *kindDecl
	name string
}

// taggedResource resolves a tag operation's ARN to a resource of the
// caller: syntax first (InvalidARN), then the kind's own rules (the era,
// for security groups), then ownership. An ARN of another account or
// region, or of a type this server does not store, is answered with that
// type's NotFound fault; whether the resource exists is decided in the
// transaction.
func (s *ElastiCache) taggedResource(sc scope, arn *string) (tagged, error) {
	a, err := parseARN(*arn)
	if err != nil {
		return tagged{}, err
	}
	k, stored := s.kinds.ByARNType(a.kind)
	if !stored {
		return tagged{}, a.notFound()
	}
	if k == securityGroupKind {
		if err := s.classic(sc); err != nil {
			return tagged{}, err
		}
	}
	// Every resource here lives in the aws partition (arn): an ARN of
	// another partition names nothing of the caller's.
	if a.partition != "aws" || a.account != sc.Account || a.region != sc.Region {
		return tagged{}, k.NotFound(a.name)
	}
	name, err := k.ValidName(a.name)
	if err != nil || name != a.name {
		// Stored names are in their stored form (lowercase where AWS
		// lowercases), so no other spelling names a resource.
		return tagged{}, k.NotFound(a.name)
	}
	return tagged{kind: k, name: name}, nil
}

func tagList(ts schema.Tags) []api.Tag { return tagSet(ts).sorted() }

// changeTags reads a resource's tags, lets change compute the new set (or
// a fault), and writes them: one transaction, nothing written on a fault.
func (s *ElastiCache) changeTags(ctx context.Context, arn *string, change func(old schema.Tags) (schema.Tags, error)) (schema.Tags, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.taggedResource(sc, arn)
	if err != nil {
		return nil, err
	}
	if r.kind.IsVirtual(r.name) && r.kind.RefuseVirtualTags != nil {
		return nil, r.kind.RefuseVirtualTags(r.name)
	}
	var result schema.Tags
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		result = nil
		ok, err := r.kind.Live(tx, sc, r.name, s.clock.Now())
		if err != nil || !ok {
			return r.kind.NotFound(r.name), err
		}
		old, err := schema.GetTags(tx, sc, r.kind, r.name)
		if err != nil {
			return nil, err
		}
		ts, fault := change(old)
		if fault != nil {
			return fault, nil
		}
		result = ts
		return nil, schema.SetTags(tx, sc, r.kind, r.name, ts)
	})
	return result, err
}

// AddTagsToResource adds or overwrites tags and returns the full tag list.
func (s *ElastiCache) AddTagsToResource(ctx context.Context, in *api.AddTagsToResourceInput) (*api.AddTagsToResourceOutput, error) {
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	result, err := s.changeTags(ctx, in.ResourceName, func(old schema.Tags) (schema.Tags, error) {
		merged := make(schema.Tags, len(old)+len(tags))
		for k, v := range old {
			merged[k] = v
		}
		for k, v := range tags {
			merged[k] = v
		}
		if len(merged) > maxTagsPerResource {
			return nil, tagQuotaExceeded()
		}
		return merged, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.AddTagsToResourceOutput{TagList: tagList(result)}, nil
}

// ListTagsForResource returns a resource's tags in key order.
func (s *ElastiCache) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.taggedResource(sc, in.ResourceName)
	if err != nil {
		return nil, err
	}
	var tags schema.Tags
	found := false
	err = s.view(ctx, func(tx storage.Tx) error {
		var err error
		if found, err = r.kind.Live(tx, sc, r.name, s.clock.Now()); err != nil || !found {
			return err
		}
		tags, err = schema.GetTags(tx, sc, r.kind, r.name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, r.kind.NotFound(r.name)
	}
	return &api.ListTagsForResourceOutput{TagList: tagList(tags)}, nil
}

// RemoveTagsFromResource removes tags by key and returns the tags left. A
// key that is not set fails the whole request: nothing is removed.
func (s *ElastiCache) RemoveTagsFromResource(ctx context.Context, in *api.RemoveTagsFromResourceInput) (*api.RemoveTagsFromResourceOutput, error) {
	for _, k := range in.TagKeys {
		if err := tagKey("TagKeys", k); err != nil {
			return nil, err
		}
	}
	result, err := s.changeTags(ctx, in.ResourceName, func(old schema.Tags) (schema.Tags, error) {
		left := make(schema.Tags, len(old))
		for k, v := range old {
			left[k] = v
		}
		for _, k := range in.TagKeys {
			if _, ok := old[k]; !ok {
				return nil, &api.TagNotFoundFault{Message: fmt.Sprintf("Tag %s not found on resource %s.", k, *in.ResourceName)}
			}
			delete(left, k)
		}
		return left, nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveTagsFromResourceOutput{TagList: tagList(result)}, nil
}
