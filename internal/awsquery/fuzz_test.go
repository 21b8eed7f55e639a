package awsquery

import (
	"encoding/xml"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzParseFormDecode feeds arbitrary bodies through ParseForm and Decode. Neither may panic;
// every failure must be an *Error of the kinds each can produce (a plain error would mean a
// request could cause a 500); decoding must not depend on map order; and whatever decodes must
// survive AppendResponse and encoding/xml unchanged.
func FuzzParseFormDecode(f *testing.F) {
	for _, b := range readClientBodies(f) {
		f.Add(b.body)
	}
	for _, s := range []string{
		required + "&Tags.Tag.1.Key=a&Tags.Tag.01.Key=b",
		required + "&Tags.Tag.1000000000.Key=a&Tags.Tag.0.Key=b&Tags.Tag.99999999999999999999.Key=c",
		required + "&Filters.Filter.1.Name=a&Filters.Filter.1.Values.Value.2=x&Filters.Filter.2.Values=",
		required + "&Window.Minutes=1&Window.Start=2015-02-03T11%3A30%3A45.123456789%2B02%3A00&Window.Ratio=1e3",
		required + "&Description=%00&TagKeys=x&Counts.member.1=2147483648",
		"Name=r&Children.Node.1.Children.Node.1.Parent.Name=x&Parent.Children.Node.7.Name=%EF%BF%BE",
		"a=%zz&a=1&&=&%",
		// Hostile forms of issue #4: huge, sparse and overlong indices, text XML cannot carry,
		// a key repeated under another spelling, truncated and broken escapes.
		required + "&Tags.Tag.2147483647.Key=a&Tags.Tag.1.Key=b&Tags.Tag.2000000000.Value=c&Tags.Tag.2147483648.Key=d",
		required + "&TagKeys.member.2147483647=a&TagKeys.member.0000000001=b",
		required + "&Description=%FF&Tags.Tag.1.Key=%C3&Tags.Tag.1.Value=%ED%A0%80&TagKeys.member.1=%EF%BF%BF",
		"CacheSecurity%47roupName=a&CacheSecurityGroupName=b&Description=d",
		required + "&TagKeys.member.1=a&TagKeys.member.01=a&Tags.Tag.1.Key=a&Tags.Tag.1.Key=b",
		"%", "%%", "%%%", "%e2%82", "a=%e2%82", "%4", "a=%4", "Action=%00&Version=%FF", "+=+&%2B=%2B",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := ParseForm(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Kind != Malformed && e.Kind != Duplicate) || e.Message == "" {
				t.Fatalf("ParseForm error %#v, want *Error of kind Malformed or Duplicate", err)
			}
			return
		}
		for _, newDst := range []func() any{
			func() any { return new(createInput) },
			func() any { return new(addTagsInput) },
			func() any { return new(removeTagsInput) },
			func() any { return new(node) },
		} {
			got, again := newDst(), newDst()
			err := Decode(form, got)
			errAgain := Decode(form, again)
			if diff := cmp.Diff(err, errAgain); diff != "" {
				t.Fatalf("Decode errors differ between runs (-first +second):\n%s", diff)
			}
			if err != nil {
				e, ok := err.(*Error)
				if !ok || e.Kind < Duplicate || e.Kind > Invalid || e.Param == "" || e.Message == "" {
					t.Fatalf("Decode error %#v, want a complete *Error", err)
				}
				continue
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("Decode results differ between runs (-first +second):\n%s", diff)
			}
			out, err := AppendResponse(nil, testNS, "Op", "OpResult", got, testReqID)
			if err != nil {
				t.Fatalf("AppendResponse: %v", err)
			}
			if err := checkWellFormed(out); err != nil {
				t.Fatalf("AppendResponse wrote malformed XML: %v\n%s", err, out)
			}
			if in, ok := got.(*createInput); ok {
				checkCreateRoundTrip(t, in, out)
				// Every element comes from at least one key: nothing is sized by an index.
				for _, n := range []int{len(in.Tags), len(in.TagKeys), len(in.Filters), len(in.Counts), len(in.Times), len(in.Flags), len(in.Ratios)} {
					if n > len(form) {
						t.Fatalf("a list of %d elements from %d parameters", n, len(form))
					}
				}
			}
		}
	})
}

// checkCreateRoundTrip reads the text fields of an encoded createInput back with encoding/xml:
// Decode admitted them, so XML must carry them exactly.
func checkCreateRoundTrip(t *testing.T, in *createInput, out []byte) {
	t.Helper()
	type xmlTag struct {
		Key   *string `xml:"Key"`
		Value *string `xml:"Value"`
	}
	type xmlFilter struct {
		Name   *string  `xml:"Name"`
		Values []string `xml:"Values>Value"`
	}
	var resp struct {
		Name        *string     `xml:"OpResult>CacheSecurityGroupName"`
		Description *string     `xml:"OpResult>Description"`
		Tags        []xmlTag    `xml:"OpResult>Tags>Tag"`
		TagKeys     []string    `xml:"OpResult>TagKeys>member"`
		Filters     []xmlFilter `xml:"OpResult>Filters>Filter"`
	}
	if err := xml.Unmarshal(out, &resp); err != nil {
		t.Fatalf("xml.Unmarshal: %v", err)
	}
	want := resp
	want.Name, want.Description, want.TagKeys = in.CacheSecurityGroupName, in.Description, in.TagKeys
	want.Tags, want.Filters = nil, nil
	for _, tg := range in.Tags {
		want.Tags = append(want.Tags, xmlTag(tg))
	}
	for _, fl := range in.Filters {
		want.Filters = append(want.Filters, xmlFilter(fl))
	}
	if diff := cmp.Diff(want, resp, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("text did not round-trip through XML (-decoded +reparsed):\n%s", diff)
	}
}

// FuzzXMLEscape checks that any string, valid or not, yields well-formed XML from both
// envelopes, and that text Decode would admit comes back from encoding/xml unchanged. Seeds
// are the parameter values of the captured client requests and hand-made edge cases.
func FuzzXMLEscape(f *testing.F) {
	// Every text the captured clients sent, then hand-made edge cases.
	seen := map[string]bool{}
	for _, b := range readClientBodies(f) {
		form, err := ParseForm(b.body)
		if err != nil {
			f.Fatalf("%s %s: %v", b.client, b.op, err)
		}
		for _, k := range slices.Sorted(maps.Keys(form)) { // seed numbers stay stable
			if v := form[k]; !seen[v] {
				seen[v] = true
				f.Add(v)
			}
		}
	}
	for _, s := range []string{
		"plain", `<&]]>"'`, "a\tb\nc\rd\r\n", "\x00\x01\x1f\x7f", "\xff\xfe", "\uFFFE\uFFFF\uFFFD",
		"\xed\xa0\x80\xed\xbf\xbf", "é😀\U0010FFFF", "]]]]>>", "&amp;", "\xc3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res := &tagListOutput{TagList: []tag{{Key: &s, Value: &s}}}
		out, err := AppendResponse(nil, testNS, "ListTagsForResource", "ListTagsForResourceResult", res, s)
		if err != nil {
			t.Fatalf("AppendResponse: %v", err)
		}
		if err := checkWellFormed(out); err != nil {
			t.Fatalf("AppendResponse wrote malformed XML: %v\n%q", err, out)
		}
		if checkText(s) == "" {
			got, err := parseTagList(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{s, s}, got); diff != "" {
				t.Fatalf("text did not round-trip (-want +got):\n%s", diff)
			}
		}
		errOut := AppendError(nil, s, true, s, s, s)
		if err := checkWellFormed(errOut); err != nil {
			t.Fatalf("AppendError wrote malformed XML: %v\n%q", err, errOut)
		}
	})
}
