package service

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/elasticache-server/elasticache-server/api"
)

// Limits from SPEC §4 and §5.
const (
	maxGroupNameLen    = 255
	maxDescriptionLen  = 255
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
	maxTagsPerResource = 50
	defaultMaxRecords  = 100
	minMaxRecords      = 20
	maxMaxRecords      = 100
	defaultGroupName   = "default"
)

func invalid(param, rule string) error {
	return api.InvalidParameterValue(fmt.Sprintf("Invalid value for parameter %s: %s", param, rule))
}

// groupName validates a cache security group name and returns its stored,
// lowercase form. AWS matches names case-insensitively and returns them in
// lowercase, so everything below this point sees only the lowercase form.
func groupName(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue(param + " is required")
	}
	s := *p
	if len(s) > maxGroupNameLen { // ASCII only, so bytes are characters
		return "", invalid(param, fmt.Sprintf("must be at most %d characters.", maxGroupNameLen))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", invalid(param, "must contain only ASCII letters, digits and hyphens.")
		}
	}
	return strings.ToLower(s), nil
}

func description(p *string) (string, error) { return descriptionParam("Description", p) }

// descriptionParam validates a required description of at most 255
// characters; param names it in messages.
func descriptionParam(param string, p *string) (string, error) {
	if p == nil || *p == "" {
		return "", api.InvalidParameterValue(param + " is required")
	}
	if utf8.RuneCountInString(*p) > maxDescriptionLen {
		return "", invalid(param, fmt.Sprintf("must be at most %d characters.", maxDescriptionLen))
	}
	return *p, nil
}

// tagSet is a resource's tags, key → value; a null value is stored as "".
type tagSet map[string]string

// requestTags validates the tags of one request and returns them with the
// last occurrence of a repeated key winning. param names the list for
// messages (Tags).
func requestTags(param string, in []api.Tag) (tagSet, error) {
	out := make(tagSet, len(in))
	for _, t := range in {
		if t.Key == nil {
			return nil, invalid(param, "every tag must have a Key.")
		}
		if err := tagKey(param, *t.Key); err != nil {
			return nil, err
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		if n := utf8.RuneCountInString(v); n > maxTagValueLen {
			return nil, invalid(param, fmt.Sprintf("tag values must be at most %d characters.", maxTagValueLen))
		}
		if !tagText(v) {
			return nil, invalid(param, "tag values may contain only Unicode letters, digits, spaces and _ . : / = + - @.")
		}
		out[*t.Key] = v
	}
	return out, nil
}

func tagKey(param, k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
		return invalid(param, fmt.Sprintf("tag keys must be 1 to %d characters.", maxTagKeyLen))
	}
	if !tagText(k) {
		return invalid(param, "tag keys may contain only Unicode letters, digits, spaces and _ . : / = + - @.")
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return invalid(param, "tag keys must not start with aws:.")
	}
	return nil
}

func tagText(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ':
		case strings.ContainsRune("_.:/=+-@", r):
		default:
			return false
		}
	}
	return true
}

func tagQuotaExceeded() error {
	return &api.TagQuotaPerResourceExceeded{Message: fmt.Sprintf("The maximum number of tags permitted on a resource is %d.", maxTagsPerResource)}
}

// sorted returns the tags in key order, the order every answer uses.
func (ts tagSet) sorted() []api.Tag {
	keys := make([]string, 0, len(ts))
	for k := range ts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]api.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, api.Tag{Key: ptr(k), Value: ptr(ts[k])})
	}
	return out
}

// maxRecords validates MaxRecords (20–100, default 100).
func maxRecords(p *int32) (int, error) {
	if p == nil {
		return defaultMaxRecords, nil
	}
	if *p < minMaxRecords || *p > maxMaxRecords {
		return 0, invalid("MaxRecords", fmt.Sprintf("must be between %d and %d.", minMaxRecords, maxMaxRecords))
	}
	return int(*p), nil
}

func ptr[T any](v T) *T { return &v }

// hyphenatedName checks s, the value of param, against the rule AWS gives
// user, user group and cache cluster IDs — a letter, then letters, digits
// and hyphens, at most max characters, not ending in a hyphen nor holding
// two in a row — and returns its stored, lowercase form.
func hyphenatedName(param, s string, max int) (string, error) {
	if len(s) > max {
		return "", invalid(param, fmt.Sprintf("must be at most %d characters.", max))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return "", invalid(param, "must begin with a letter.")
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' {
			return "", invalid(param, "must contain only ASCII letters, digits and hyphens.")
		}
	}
	if strings.HasSuffix(s, "-") || strings.Contains(s, "--") {
		return "", invalid(param, "must not end with a hyphen or contain two consecutive hyphens.")
	}
	return strings.ToLower(s), nil
}
