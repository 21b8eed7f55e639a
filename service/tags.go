package service

import (
	"context"
	"fmt"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/storage"
)

// taggedGroup resolves a tag operation's ARN to a cache security group of
// the caller: syntax first (InvalidARN), then the era, then existence. An
// ARN of another account or region, or of a type this server does not
// store, is answered with that type's NotFound fault.
func (s *ElastiCache) taggedGroup(sc scope, arn *string) (name string, err error) {
	a, err := parseARN(*arn)
	if err != nil {
		return "", err
	}
	if a.kind != "securitygroup" {
		return "", a.notFound()
	}
	if err := s.classic(sc); err != nil {
		return "", err
	}
	// Every resource here lives in the aws partition (groupARN): an ARN of
	// another partition names nothing of the caller's.
	if a.partition != "aws" || a.account != sc.account || a.region != sc.region {
		return "", a.notFound()
	}
	name, err = groupName("ResourceName", &a.name)
	if err != nil || name != a.name {
		// Stored names are lowercase, so no other spelling names a group.
		return "", a.notFound()
	}
	return name, nil
}

// loadTaggable reads a group for a tag change; the virtual default group
// is materialised so its tags can be stored.
func loadTaggable(tx storage.Tx, sc scope, name string) (*groupRecord, error) {
	rec, err := getGroup(tx, sc, name)
	if rec == nil && err == nil && name == defaultGroupName {
		rec = virtualDefault()
	}
	return rec, err
}

func tagList(ts tagSet) *api.AddTagsToResourceOutput {
	return &api.AddTagsToResourceOutput{TagList: ts.sorted()}
}

// AddTagsToResource adds or overwrites tags and returns the full tag list.
func (s *ElastiCache) AddTagsToResource(ctx context.Context, in *api.AddTagsToResourceInput) (*api.AddTagsToResourceOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	tags, err := requestTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	name, err := s.taggedGroup(sc, in.ResourceName)
	if err != nil {
		return nil, err
	}
	var result tagSet
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		result = nil
		rec, err := loadTaggable(tx, sc, name)
		if err != nil || rec == nil {
			return groupNotFound(name), err
		}
		merged := make(tagSet, len(rec.Tags)+len(tags))
		for k, v := range rec.Tags {
			merged[k] = v
		}
		for k, v := range tags {
			merged[k] = v
		}
		if len(merged) > maxTagsPerResource {
			return tagQuotaExceeded(), nil
		}
		rec.Tags = merged
		result = merged
		return nil, putGroup(tx, sc, rec)
	})
	if err != nil {
		return nil, err
	}
	return tagList(result), nil
}

// ListTagsForResource returns a resource's tags in key order.
func (s *ElastiCache) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	name, err := s.taggedGroup(sc, in.ResourceName)
	if err != nil {
		return nil, err
	}
	var rec *groupRecord
	err = s.view(ctx, func(tx storage.Tx) error {
		var err error
		rec, err = loadTaggable(tx, sc, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, groupNotFound(name)
	}
	return (*api.ListTagsForResourceOutput)(tagList(rec.Tags)), nil
}

// RemoveTagsFromResource removes tags by key and returns the tags left. A
// key that is not set fails the whole request: nothing is removed.
func (s *ElastiCache) RemoveTagsFromResource(ctx context.Context, in *api.RemoveTagsFromResourceInput) (*api.RemoveTagsFromResourceOutput, error) {
	sc, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		if err := tagKey("TagKeys", k); err != nil {
			return nil, err
		}
	}
	name, err := s.taggedGroup(sc, in.ResourceName)
	if err != nil {
		return nil, err
	}
	var result tagSet
	err = s.update(ctx, func(tx storage.Tx) (error, error) {
		result = nil
		rec, err := loadTaggable(tx, sc, name)
		if err != nil || rec == nil {
			return groupNotFound(name), err
		}
		left := make(tagSet, len(rec.Tags))
		for k, v := range rec.Tags {
			left[k] = v
		}
		for _, k := range in.TagKeys {
			if _, ok := rec.Tags[k]; !ok {
				return &api.TagNotFoundFault{Message: fmt.Sprintf("Tag %s not found on resource %s.", k, *in.ResourceName)}, nil
			}
			delete(left, k)
		}
		rec.Tags = left
		result = left
		return nil, putGroup(tx, sc, rec)
	})
	if err != nil {
		return nil, err
	}
	return (*api.RemoveTagsFromResourceOutput)(tagList(result)), nil
}
