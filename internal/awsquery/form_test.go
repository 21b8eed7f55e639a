package awsquery

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    Form
		wantErr *Error
	}{
		{name: "empty body", raw: "", want: Form{}},
		{
			name: "client body",
			raw:  "Action=DeleteCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=my-csg",
			want: Form{"Action": "DeleteCacheSecurityGroup", "Version": "2015-02-02", "CacheSecurityGroupName": "my-csg"},
		},
		{name: "plus is a space", raw: "Description=My+cache+group", want: Form{"Description": "My cache group"}},
		{name: "%20 is a space", raw: "Description=My%20cache%20group", want: Form{"Description": "My cache group"}},
		{name: "%2B is a plus", raw: "a=1%2B1", want: Form{"a": "1+1"}},
		{name: "%2A is a star", raw: "a=%2A", want: Form{"a": "*"}},
		{name: "tilde as is", raw: "a=~", want: Form{"a": "~"}},
		{name: "reserved characters", raw: "a=team%3Aname%26c%3Dd%2F", want: Form{"a": "team:name&c=d/"}},
		{name: "UTF-8", raw: "a=%C3%A9", want: Form{"a": "é"}},
		{name: "lower-case hex", raw: "a=%c3%a9", want: Form{"a": "é"}},
		{name: "encoded key", raw: "Tags.Tag.1.Key%3Dx=1", want: Form{"Tags.Tag.1.Key=x": "1"}},
		{name: "equals sign in value", raw: "a=b=c", want: Form{"a": "b=c"}},
		{name: "empty value", raw: "Description=", want: Form{"Description": ""}},
		{name: "key without equals sign", raw: "a&b=2", want: Form{"a": "", "b": "2"}},
		{name: "empty pairs skipped", raw: "&a=1&&b=2&", want: Form{"a": "1", "b": "2"}},
		{name: "only ampersands", raw: "&&&", want: Form{}},
		{name: "empty key skipped", raw: "=x&a=1&=y", want: Form{"a": "1"}},
		{name: "semicolon is ordinary", raw: "a=1;b=2", want: Form{"a": "1;b=2"}},
		{name: "NUL kept for Decode to reject", raw: "a=x%00y", want: Form{"a": "x\x00y"}},
		{name: "invalid UTF-8 kept for Decode to reject", raw: "a=%FF", want: Form{"a": "\xff"}},
		{
			name:    "duplicate",
			raw:     "Action=X&a=1&a=2",
			wantErr: &Error{Kind: Duplicate, Param: "a", Message: "The parameter a was given more than once."},
		},
		{
			name:    "duplicate with the same value",
			raw:     "a=1&a=1",
			wantErr: &Error{Kind: Duplicate, Param: "a", Message: "The parameter a was given more than once."},
		},
		{
			name:    "duplicate once decoded",
			raw:     "a=1&%61=2",
			wantErr: &Error{Kind: Duplicate, Param: "a", Message: "The parameter a was given more than once."},
		},
		{
			name:    "first duplicate in body order",
			raw:     "b=1&a=1&b=2&a=2",
			wantErr: &Error{Kind: Duplicate, Param: "b", Message: "The parameter b was given more than once."},
		},
		{
			name:    "duplicate key without value",
			raw:     "a&a",
			wantErr: &Error{Kind: Duplicate, Param: "a", Message: "The parameter a was given more than once."},
		},
		{name: "not hex", raw: "a=%zz", wantErr: malformed()},
		{name: "one hex digit then end", raw: "a=%e", wantErr: malformed()},
		{name: "one hex digit then more", raw: "a=%e&b=1", wantErr: malformed()},
		{name: "trailing percent", raw: "a=1%", wantErr: malformed()},
		{name: "double percent", raw: "a=%%41", wantErr: malformed()},
		{name: "malformed key", raw: "a%g1=1", wantErr: malformed()},
		{name: "malformed key without value", raw: "a%", wantErr: malformed()},
		{name: "malformed after a duplicate", raw: "a=1&a=2&b=%", wantErr: malformed()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseForm(tt.raw)
			if tt.wantErr != nil {
				if diff := cmp.Diff(tt.wantErr, err); diff != "" {
					t.Fatalf("ParseForm(%q) error (-want +got):\n%s", tt.raw, diff)
				}
				if got != nil {
					t.Errorf("ParseForm(%q) = %v with an error, want nil", tt.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseForm(%q): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseForm(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func malformed() *Error {
	return &Error{Kind: Malformed, Message: "The query string contains an invalid percent-encoding."}
}

func TestParseFormLarge(t *testing.T) {
	t.Parallel()
	var many strings.Builder
	for i := 1; i <= 10000; i++ {
		if i > 1 {
			many.WriteByte('&')
		}
		many.WriteString("Tags.Tag." + strconv.Itoa(i) + ".Key=k" + strconv.Itoa(i))
	}
	hugeKey := strings.Repeat("K", 1<<20)
	tests := []struct {
		name    string
		raw     string
		wantLen int
		check   func(Form) bool
	}{
		{
			name:    "10,000 parameters",
			raw:     many.String(),
			wantLen: 10000,
			check:   func(f Form) bool { return f["Tags.Tag.1.Key"] == "k1" && f["Tags.Tag.10000.Key"] == "k10000" },
		},
		{
			name:    "1 MiB key",
			raw:     hugeKey + "=v",
			wantLen: 1,
			check:   func(f Form) bool { return f[hugeKey] == "v" },
		},
		{
			name:    "1 MiB of encoded value",
			raw:     "a=" + strings.Repeat("%41", 1<<18),
			wantLen: 1,
			check:   func(f Form) bool { return f["a"] == strings.Repeat("A", 1<<18) },
		},
		{
			name:    "1 MiB of ampersands",
			raw:     strings.Repeat("&", 1<<20),
			wantLen: 0,
			check:   func(Form) bool { return true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseForm(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantLen || !tt.check(got) {
				t.Errorf("ParseForm: %d parameters, want %d with the expected values", len(got), tt.wantLen)
			}
		})
	}
}

func TestDecodeTenThousandElements(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("CacheSecurityGroupName=g&Description=d")
	// Written in reverse so that ordering is the decoder's work, not the body's.
	for i := 10000; i >= 1; i-- {
		b.WriteString("&Tags.Tag." + strconv.Itoa(i) + ".Key=k" + strconv.Itoa(i))
		b.WriteString("&TagKeys.member." + strconv.Itoa(i*1000) + "=k" + strconv.Itoa(i))
	}
	f, err := ParseForm(b.String())
	if err != nil {
		t.Fatal(err)
	}
	var in createInput
	if err := Decode(f, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Tags) != 10000 || len(in.TagKeys) != 10000 {
		t.Fatalf("decoded %d tags and %d tag keys, want 10000 each", len(in.Tags), len(in.TagKeys))
	}
	for i := range in.Tags {
		want := "k" + strconv.Itoa(i+1)
		if in.Tags[i].Key == nil || *in.Tags[i].Key != want || in.TagKeys[i] != want {
			t.Fatalf("element %d: got %v / %q, want %q", i, in.Tags[i].Key, in.TagKeys[i], want)
		}
	}
}
