package awsquery

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// required is the smallest valid createInput body; cases append to it.
const required = "CacheSecurityGroupName=my-csg&Description=d"

func base() createInput {
	return createInput{CacheSecurityGroupName: ptr("my-csg"), Description: ptr("d")}
}

// with returns base() changed by fn, so that each case states only what it is about.
func with(fn func(*createInput)) *createInput {
	in := base()
	fn(&in)
	return &in
}

func invalid(param, why string) *Error {
	return &Error{Kind: Invalid, Param: param, Message: "Invalid value for parameter " + param + ": " + why + "."}
}

func badIndex(key string) *Error {
	return invalid(key, "list indices are whole numbers starting at 1")
}

func TestDecode(t *testing.T) {
	t.Parallel()
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		body    string
		dst     any // a pointer to a zero value of the type to decode into
		want    any
		wantErr *Error
	}{
		// Scalars and the required rule.
		{
			name: "client request",
			body: "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=my-csg&Description=My+cache+security+group&Tags.Tag.1.Key=env&Tags.Tag.1.Value=prod&Tags.Tag.2.Key=novalue&Tags.Tag.3.Key=team%3Aname&Tags.Tag.3.Value=a+b%26c%3Dd%2F%C3%A9~%2A",
			dst:  new(createInput),
			want: &createInput{
				CacheSecurityGroupName: ptr("my-csg"),
				Description:            ptr("My cache security group"),
				Tags: []tag{
					{Key: ptr("env"), Value: ptr("prod")},
					{Key: ptr("novalue")},
					{Key: ptr("team:name"), Value: ptr("a b&c=d/é~*")},
				},
			},
		},
		{name: "absent optional fields stay nil", body: required, dst: new(createInput), want: with(func(*createInput) {})},
		{
			name: "unknown parameters ignored",
			body: required + "&Action=X&Version=2015-02-02&Foo=1&Description.x=1&Window=&Tags.member.1.Key=k&Tags.Tagx.1.Key=k&Tags.Tag.1=k&TagKeys.member.1.Key=k&TagKeys.Foo=k",
			dst:  new(createInput),
			want: with(func(*createInput) {}),
		},
		{
			name:    "required absent",
			body:    "Description=d",
			dst:     new(createInput),
			wantErr: &Error{Kind: Missing, Param: "CacheSecurityGroupName", Message: "The request must contain the parameter CacheSecurityGroupName."},
		},
		{
			name:    "required empty",
			body:    "CacheSecurityGroupName=&Description=d",
			dst:     new(createInput),
			wantErr: &Error{Kind: Empty, Param: "CacheSecurityGroupName", Message: "CacheSecurityGroupName is required"},
		},
		{
			name:    "first failure in field order",
			body:    "MaxRecords=x&Description=",
			dst:     new(createInput),
			wantErr: &Error{Kind: Missing, Param: "CacheSecurityGroupName", Message: "The request must contain the parameter CacheSecurityGroupName."},
		},
		{
			name: "optional empty string is present",
			body: required + "&Tags.Tag.1.Key=k&Tags.Tag.1.Value=",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.Tags = []tag{{Key: ptr("k"), Value: ptr("")}} }),
		},
		{name: "integer", body: required + "&MaxRecords=20", dst: new(createInput), want: with(func(in *createInput) { in.MaxRecords = ptr(int32(20)) })},
		{name: "integer with sign", body: required + "&MaxRecords=-5", dst: new(createInput), want: with(func(in *createInput) { in.MaxRecords = ptr(int32(-5)) })},
		{name: "integer max", body: required + "&MaxRecords=2147483647", dst: new(createInput), want: with(func(in *createInput) { in.MaxRecords = ptr(int32(2147483647)) })},
		{name: "integer min", body: required + "&MaxRecords=-2147483648", dst: new(createInput), want: with(func(in *createInput) { in.MaxRecords = ptr(int32(-2147483648)) })},
		{name: "integer empty", body: required + "&MaxRecords=", dst: new(createInput), wantErr: invalid("MaxRecords", "not an integer")},
		{name: "integer word", body: required + "&MaxRecords=twenty", dst: new(createInput), wantErr: invalid("MaxRecords", "not an integer")},
		{name: "integer fraction", body: required + "&MaxRecords=1.5", dst: new(createInput), wantErr: invalid("MaxRecords", "not an integer")},
		{name: "integer space", body: required + "&MaxRecords=+20+", dst: new(createInput), wantErr: invalid("MaxRecords", "not an integer")},
		{name: "integer too big", body: required + "&MaxRecords=2147483648", dst: new(createInput), wantErr: invalid("MaxRecords", "out of range for an integer")},
		{name: "integer too small", body: required + "&MaxRecords=-2147483649", dst: new(createInput), wantErr: invalid("MaxRecords", "out of range for an integer")},
		{name: "integer absurdly long", body: required + "&MaxRecords=" + strings.Repeat("9", 1000), dst: new(createInput), wantErr: invalid("MaxRecords", "out of range for an integer")},
		{name: "boolean true", body: required + "&Enabled=true", dst: new(createInput), want: with(func(in *createInput) { in.Enabled = ptr(true) })},
		{name: "boolean false", body: required + "&Enabled=false", dst: new(createInput), want: with(func(in *createInput) { in.Enabled = ptr(false) })},
		{name: "boolean capitalised", body: required + "&Enabled=True", dst: new(createInput), wantErr: invalid("Enabled", "must be true or false")},
		{name: "boolean digit", body: required + "&Enabled=1", dst: new(createInput), wantErr: invalid("Enabled", "must be true or false")},
		{name: "boolean empty", body: required + "&Enabled=", dst: new(createInput), wantErr: invalid("Enabled", "must be true or false")},
		{name: "double", body: required + "&Ratio=0.25", dst: new(createInput), want: with(func(in *createInput) { in.Ratio = ptr(0.25) })},
		{name: "double exponent", body: required + "&Ratio=-1.5e3", dst: new(createInput), want: with(func(in *createInput) { in.Ratio = ptr(-1500.0) })},
		{name: "double integer", body: required + "&Ratio=7", dst: new(createInput), want: with(func(in *createInput) { in.Ratio = ptr(7.0) })},
		{name: "double NaN", body: required + "&Ratio=NaN", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},
		{name: "double Inf", body: required + "&Ratio=Inf", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},
		{name: "double hex", body: required + "&Ratio=0x1p3", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},
		{name: "double overflow", body: required + "&Ratio=1e400", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},
		{name: "double empty", body: required + "&Ratio=", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},
		{name: "double word", body: required + "&Ratio=e", dst: new(createInput), wantErr: invalid("Ratio", "not a number")},

		// Timestamps: every fraction length clients send, offsets, and what is refused.
		{name: "timestamp whole seconds", body: required + "&StartTime=2015-02-02T10%3A00%3A00Z", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-02T10:00:00Z")) })},
		{name: "timestamp Go form", body: required + "&StartTime=2015-02-03T11%3A30%3A45.25Z", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-03T11:30:45.25Z")) })},
		{name: "timestamp JS form", body: required + "&StartTime=2015-02-03T11%3A30%3A45.250Z", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-03T11:30:45.25Z")) })},
		{name: "timestamp botocore form", body: required + "&StartTime=2015-02-03T11%3A30%3A45.250000Z", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-03T11:30:45.25Z")) })},
		{name: "timestamp nanoseconds", body: required + "&StartTime=2015-02-03T11:30:45.123456789Z", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-03T11:30:45.123456789Z")) })},
		{name: "timestamp offset", body: required + "&StartTime=2015-02-03T13:30:45%2B02:00", dst: new(createInput), want: with(func(in *createInput) { in.StartTime = ptr(ts("2015-02-03T11:30:45Z")) })},
		{name: "timestamp plus as space", body: required + "&StartTime=2015-02-03T13:30:45+02:00", dst: new(createInput), wantErr: invalid("StartTime", "not an ISO 8601 timestamp")},
		{name: "timestamp date only", body: required + "&StartTime=2015-02-03", dst: new(createInput), wantErr: invalid("StartTime", "not an ISO 8601 timestamp")},
		{name: "timestamp empty", body: required + "&StartTime=", dst: new(createInput), wantErr: invalid("StartTime", "not an ISO 8601 timestamp")},

		// Text that XML cannot carry is refused wherever it is decoded.
		{name: "text tab CR LF allowed", body: "CacheSecurityGroupName=g&Description=a%09b%0Dc%0Ad", dst: new(createInput), want: &createInput{CacheSecurityGroupName: ptr("g"), Description: ptr("a\tb\rc\nd")}},
		{name: "text DEL, C1 and U+FFFD allowed", body: "CacheSecurityGroupName=g&Description=%7F%C2%85%EF%BF%BD", dst: new(createInput), want: &createInput{CacheSecurityGroupName: ptr("g"), Description: ptr("\x7f\u0085\uFFFD")}},
		{name: "text astral plane allowed", body: "CacheSecurityGroupName=g&Description=%F0%9F%98%80", dst: new(createInput), want: &createInput{CacheSecurityGroupName: ptr("g"), Description: ptr("😀")}},
		{name: "text invalid UTF-8", body: "CacheSecurityGroupName=g&Description=%FF", dst: new(createInput), wantErr: invalid("Description", "not valid UTF-8")},
		{name: "text truncated UTF-8", body: "CacheSecurityGroupName=g&Description=caf%C3", dst: new(createInput), wantErr: invalid("Description", "not valid UTF-8")},
		{name: "text overlong UTF-8", body: "CacheSecurityGroupName=g&Description=%C0%AF", dst: new(createInput), wantErr: invalid("Description", "not valid UTF-8")},
		{name: "text NUL", body: "CacheSecurityGroupName=g&Description=a%00b", dst: new(createInput), wantErr: invalid("Description", "contains a character XML cannot carry")},
		{name: "text C0 control", body: "CacheSecurityGroupName=g&Description=%1B", dst: new(createInput), wantErr: invalid("Description", "contains a character XML cannot carry")},
		{name: "text U+FFFE", body: "CacheSecurityGroupName=g&Description=%EF%BF%BE", dst: new(createInput), wantErr: invalid("Description", "contains a character XML cannot carry")},
		{name: "text U+FFFF", body: "CacheSecurityGroupName=g&Description=%EF%BF%BF", dst: new(createInput), wantErr: invalid("Description", "contains a character XML cannot carry")},
		{name: "text surrogate", body: "CacheSecurityGroupName=g&Description=%ED%A0%80", dst: new(createInput), wantErr: invalid("Description", "contains a character XML cannot carry")},
		{name: "text in a list element", body: required + "&TagKeys.member.1=ok&TagKeys.member.2=%00", dst: new(createInput), wantErr: invalid("TagKeys.member.2", "contains a character XML cannot carry")},
		{name: "text in a struct list element", body: required + "&Tags.Tag.1.Key=k&Tags.Tag.1.Value=%FF", dst: new(createInput), wantErr: invalid("Tags.Tag.1.Value", "not valid UTF-8")},
		{name: "text named by canonical key", body: required + "&Tags.Tag.007.Key=%FF", dst: new(createInput), wantErr: invalid("Tags.Tag.7.Key", "not valid UTF-8")},

		// Lists: order, sparse indices, empty and absent lists.
		{
			name: "list ordered by index, not by body",
			body: required + "&TagKeys.member.3=c&TagKeys.member.1=a&TagKeys.member.2=b",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.TagKeys = []string{"a", "b", "c"} }),
		},
		{
			name: "sparse indices",
			body: required + "&TagKeys.member.9=c&TagKeys.member.1=a&TagKeys.member.5=b",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.TagKeys = []string{"a", "b", "c"} }),
		},
		{
			name: "huge sparse index",
			body: required + "&Tags.Tag.1000000000.Key=b&Tags.Tag.1.Key=a",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.Tags = []tag{{Key: ptr("a")}, {Key: ptr("b")}} }),
		},
		{
			name: "largest index",
			body: required + "&TagKeys.member.2147483647=z",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.TagKeys = []string{"z"} }),
		},
		{
			name: "leading zeros",
			body: required + "&Tags.Tag.02.Key=b&Tags.Tag.01.Key=a&Tags.Tag.1.Value=x",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.Tags = []tag{{Key: ptr("a"), Value: ptr("x")}, {Key: ptr("b")}} }),
		},
		{
			name: "element with only unknown members exists",
			body: required + "&Tags.Tag.1.Key=a&Tags.Tag.2.Colour=red",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.Tags = []tag{{Key: ptr("a")}, {}} }),
		},
		{
			name: "empty lists",
			body: required + "&Tags=&TagKeys=&Counts=",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.Tags, in.TagKeys, in.Counts = []tag{}, []string{}, []int32{} }),
		},
		{
			name: "empty-list key next to elements",
			body: required + "&TagKeys=&TagKeys.member.1=a",
			dst:  new(createInput),
			want: with(func(in *createInput) { in.TagKeys = []string{"a"} }),
		},
		{
			name: "scalar lists of every kind",
			body: required + "&Counts.member.2=-7&Counts.member.1=3&Flags.member.1=true&Flags.member.2=false&Ratios.member.1=0.5&Times.member.1=2015-02-02T10%3A00%3A00Z&Times.member.2=2015-02-02T10%3A00%3A00.5-01%3A00",
			dst:  new(createInput),
			want: with(func(in *createInput) {
				in.Counts = []int32{3, -7}
				in.Flags = []bool{true, false}
				in.Ratios = []float64{0.5}
				in.Times = []time.Time{ts("2015-02-02T10:00:00Z"), ts("2015-02-02T11:00:00.5Z")}
			}),
		},
		{name: "bad integer in a list", body: required + "&Counts.member.1=3&Counts.member.2=x", dst: new(createInput), wantErr: invalid("Counts.member.2", "not an integer")},
		{name: "bad timestamp in a list", body: required + "&Times.member.4=yesterday", dst: new(createInput), wantErr: invalid("Times.member.4", "not an ISO 8601 timestamp")},
		{name: "value on the bare list key", body: required + "&Tags=x", dst: new(createInput), wantErr: invalid("Tags", "a list is sent as Tags.Tag.N")},
		{name: "value on the bare string list key", body: required + "&TagKeys=env", dst: new(createInput), wantErr: invalid("TagKeys", "a list is sent as TagKeys.member.N")},
		{name: "value on the bare list key next to elements", body: required + "&TagKeys=x&TagKeys.member.1=a", dst: new(createInput), wantErr: invalid("TagKeys", "a list is sent as TagKeys.member.N")},

		// List indices that are not whole numbers from 1.
		{name: "index 0", body: required + "&Tags.Tag.0.Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag.0.Key")},
		{name: "index 00", body: required + "&TagKeys.member.00=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.00")},
		{name: "index -1", body: required + "&Tags.Tag.-1.Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag.-1.Key")},
		{name: "index +1", body: required + "&Tags.Tag.%2B1.Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag.+1.Key")},
		{name: "index with space", body: required + "&TagKeys.member.+1=a", dst: new(createInput), wantErr: badIndex("TagKeys.member. 1")},
		{name: "index word", body: required + "&Tags.Tag.one.Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag.one.Key")},
		{name: "index hex", body: required + "&TagKeys.member.0x1=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.0x1")},
		{name: "index empty", body: required + "&Tags.Tag..Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag..Key")},
		{name: "index empty at end", body: required + "&TagKeys.member.=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.")},
		{name: "index missing", body: required + "&Tags.Tag=a", dst: new(createInput), wantErr: badIndex("Tags.Tag")},
		{name: "index past int32", body: required + "&TagKeys.member.2147483648=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.2147483648")},
		{name: "index with ten digits of padding", body: required + "&TagKeys.member.0000000001=a", dst: new(createInput), want: with(func(in *createInput) { in.TagKeys = []string{"a"} })},
		{name: "index past ten digits", body: required + "&TagKeys.member.00000000001=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.00000000001")},
		{name: "index absurdly long", body: required + "&Tags.Tag.99999999999999999999.Key=a", dst: new(createInput), wantErr: badIndex("Tags.Tag.99999999999999999999.Key")},
		{name: "index error before element errors", body: required + "&TagKeys.member.1=%00&TagKeys.member.0=a", dst: new(createInput), wantErr: badIndex("TagKeys.member.0")},

		// Duplicates through leading zeros.
		{
			name:    "duplicate struct member through leading zeros",
			body:    required + "&Tags.Tag.01.Key=a&Tags.Tag.1.Key=b",
			dst:     new(createInput),
			wantErr: &Error{Kind: Duplicate, Param: "Tags.Tag.1.Key", Message: "The parameter Tags.Tag.1.Key was given more than once."},
		},
		{
			name:    "duplicate string element through leading zeros",
			body:    required + "&TagKeys.member.1=a&TagKeys.member.001=a",
			dst:     new(createInput),
			wantErr: &Error{Kind: Duplicate, Param: "TagKeys.member.1", Message: "The parameter TagKeys.member.1 was given more than once."},
		},

		// A nested structure.
		{
			name: "nested structure",
			body: required + "&Window.Minutes=30&Window.Start=2015-02-02T10%3A00%3A00Z&Window.Enabled=true&Window.Ratio=1.5",
			dst:  new(createInput),
			want: with(func(in *createInput) {
				in.Window = &window{Start: ptr(ts("2015-02-02T10:00:00Z")), Minutes: ptr(int32(30)), Enabled: ptr(true), Ratio: ptr(1.5)}
			}),
		},
		{name: "nested required absent", body: required + "&Window.Enabled=true", dst: new(createInput), wantErr: &Error{Kind: Missing, Param: "Window.Minutes", Message: "The request must contain the parameter Window.Minutes."}},
		{name: "nested present through an unknown member", body: required + "&Window.Colour=red", dst: new(createInput), wantErr: &Error{Kind: Missing, Param: "Window.Minutes", Message: "The request must contain the parameter Window.Minutes."}},
		{name: "nested required empty", body: required + "&Window.Minutes=", dst: new(createInput), wantErr: &Error{Kind: Empty, Param: "Window.Minutes", Message: "Window.Minutes is required"}},
		{name: "nested bad value", body: required + "&Window.Minutes=5&Window.Ratio=x", dst: new(createInput), wantErr: invalid("Window.Ratio", "not a number")},
		{name: "required structure absent", body: "Foo=1", dst: new(requiredWindowInput), wantErr: &Error{Kind: Missing, Param: "Window", Message: "The request must contain the parameter Window."}},
		{name: "required structure present", body: "Window.Minutes=1", dst: new(requiredWindowInput), want: &requiredWindowInput{Window: &window{Minutes: ptr(int32(1))}}},

		// A list of structures that contain a list.
		{
			name: "list of structures with lists",
			body: required + "&Filters.Filter.2.Name=b&Filters.Filter.2.Values=&Filters.Filter.1.Values.Value.2=y&Filters.Filter.1.Name=a&Filters.Filter.1.Values.Value.1=x&Filters.Filter.3.Name=c",
			dst:  new(createInput),
			want: with(func(in *createInput) {
				in.Filters = []filter{
					{Name: ptr("a"), Values: []string{"x", "y"}},
					{Name: ptr("b"), Values: []string{}},
					{Name: ptr("c")},
				}
			}),
		},
		{name: "required member of a present element", body: required + "&Filters.Filter.1.Name=a&Filters.Filter.2.Values.Value.1=x", dst: new(createInput), wantErr: &Error{Kind: Missing, Param: "Filters.Filter.2.Name", Message: "The request must contain the parameter Filters.Filter.2.Name."}},
		{name: "required member of an element named canonically", body: required + "&Filters.Filter.03.Name=", dst: new(createInput), wantErr: &Error{Kind: Empty, Param: "Filters.Filter.3.Name", Message: "Filters.Filter.3.Name is required"}},
		{name: "index inside an element", body: required + "&Filters.Filter.1.Name=a&Filters.Filter.1.Values.Value.0=x", dst: new(createInput), wantErr: badIndex("Filters.Filter.1.Values.Value.0")},
		{name: "value on a bare list key inside an element", body: required + "&Filters.Filter.1.Name=a&Filters.Filter.1.Values=x", dst: new(createInput), wantErr: invalid("Filters.Filter.1.Values", "a list is sent as Filters.Filter.1.Values.Value.N")},
		{name: "bad text inside an inner list", body: required + "&Filters.Filter.1.Name=a&Filters.Filter.1.Values.Value.1=%EF%BF%BF", dst: new(createInput), wantErr: invalid("Filters.Filter.1.Values.Value.1", "contains a character XML cannot carry")},
		{
			name:    "duplicate inside an inner list",
			body:    required + "&Filters.Filter.1.Name=a&Filters.Filter.1.Values.Value.1=x&Filters.Filter.01.Values.Value.01=y",
			dst:     new(createInput),
			wantErr: &Error{Kind: Duplicate, Param: "Filters.Filter.1.Values.Value.1", Message: "The parameter Filters.Filter.1.Values.Value.1 was given more than once."},
		},
		{
			name:    "duplicate member of an element",
			body:    required + "&Filters.Filter.1.Name=a&Filters.Filter.01.Name=b",
			dst:     new(createInput),
			wantErr: &Error{Kind: Duplicate, Param: "Filters.Filter.1.Name", Message: "The parameter Filters.Filter.1.Name was given more than once."},
		},

		// Required lists (AddTagsToResource, RemoveTagsFromResource).
		{name: "required list absent", body: "ResourceName=arn", dst: new(addTagsInput), wantErr: &Error{Kind: Missing, Param: "Tags", Message: "The request must contain the parameter Tags."}},
		{name: "required list empty", body: "ResourceName=arn&Tags=", dst: new(addTagsInput), wantErr: &Error{Kind: Empty, Param: "Tags", Message: "Tags is required"}},
		{name: "required list only unknown keys", body: "ResourceName=arn&Tags.member.1.Key=k", dst: new(addTagsInput), wantErr: &Error{Kind: Missing, Param: "Tags", Message: "The request must contain the parameter Tags."}},
		{name: "required list given", body: "ResourceName=arn&Tags.Tag.1.Key=k", dst: new(addTagsInput), want: &addTagsInput{ResourceName: ptr("arn"), Tags: []tag{{Key: ptr("k")}}}},
		{name: "required string list empty", body: "ResourceName=arn&TagKeys=", dst: new(removeTagsInput), wantErr: &Error{Kind: Empty, Param: "TagKeys", Message: "TagKeys is required"}},
		{name: "required string list given", body: "ResourceName=arn&TagKeys.member.1=", dst: new(removeTagsInput), want: &removeTagsInput{ResourceName: ptr("arn"), TagKeys: []string{""}}},

		// A recursive type.
		{
			name: "recursive type",
			body: "Name=root&Children.Node.1.Name=a&Children.Node.1.Children.Node.1.Name=a1&Children.Node.2.Parent.Name=p&Parent.Parent.Name=gp",
			dst:  new(node),
			want: &node{
				Name: ptr("root"),
				Children: []node{
					{Name: ptr("a"), Children: []node{{Name: ptr("a1")}}},
					{Parent: &node{Name: ptr("p")}},
				},
				Parent: &node{Parent: &node{Name: ptr("gp")}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseForm(tt.body)
			if err != nil {
				t.Fatalf("ParseForm: %v", err)
			}
			err = Decode(f, tt.dst)
			if tt.wantErr != nil {
				if diff := cmp.Diff(tt.wantErr, err); diff != "" {
					t.Fatalf("Decode error (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.dst); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeDeterministic checks that with several problems the same one is reported every
// time, although Form is a map and iterates in random order.
func TestDecodeDeterministic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *Error
	}{
		{name: "bad indices", body: required + "&Tags.Tag.x.Key=a&Tags.Tag.0.Key=b&Tags.Tag.-1.Key=c&Tags.Tag.1.Key=d", want: badIndex("Tags.Tag.-1.Key")},
		{name: "bad elements", body: required + "&TagKeys.member.3=%00&TagKeys.member.2=%FF&TagKeys.member.10=%01", want: invalid("TagKeys.member.2", "not valid UTF-8")},
		{name: "bad members", body: required + "&Tags.Tag.2.Value=%FF&Tags.Tag.2.Key=%00", want: invalid("Tags.Tag.2.Key", "contains a character XML cannot carry")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 50 {
				f, err := ParseForm(tt.body)
				if err != nil {
					t.Fatal(err)
				}
				err = Decode(f, new(createInput))
				if diff := cmp.Diff(tt.want, err); diff != "" {
					t.Fatalf("Decode error (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDecodeLeavesAbsentFieldsAlone(t *testing.T) {
	t.Parallel()
	in := createInput{Note: "kept", MaxRecords: ptr(int32(7))}
	if err := Decode(Form{"CacheSecurityGroupName": "g", "Description": "d"}, &in); err != nil {
		t.Fatal(err)
	}
	want := createInput{CacheSecurityGroupName: ptr("g"), Description: ptr("d"), Note: "kept", MaxRecords: ptr(int32(7))}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
	if err := Decode(nil, new(node)); err != nil {
		t.Errorf("Decode(nil form): %v", err)
	}
}

// TestDecodeProgrammingErrors checks that types outside the tag format are refused with a plain
// error (a bug to fix, not a request to answer), on every use.
func TestDecodeProgrammingErrors(t *testing.T) {
	t.Parallel()
	type hasUnexported struct {
		name *string `query:"Name"`
	}
	type badNested struct {
		Inner *hasUnexported `query:"Inner"`
	}
	tests := []struct {
		name string
		dst  any
	}{
		{name: "not a pointer", dst: createInput{}},
		{name: "nil pointer", dst: (*createInput)(nil)},
		{name: "pointer to a non-struct", dst: new(string)},
		{name: "nil", dst: nil},
		{name: "int64", dst: new(struct {
			A *int64 `query:"A"`
		})},
		{name: "value scalar", dst: new(struct {
			A int32 `query:"A"`
		})},
		{name: "value struct", dst: new(struct {
			A tag `query:"A"`
		})},
		{name: "slice of pointers", dst: new(struct {
			A []*tag `query:"A,member=Tag"`
		})},
		{name: "bytes", dst: new(struct {
			A []byte `query:"A"`
		})},
		{name: "map", dst: new(struct {
			A map[string]string `query:"A"`
		})},
		{name: "flat", dst: new(struct {
			A []string `query:"A,flat"`
		})},
		{name: "flattened", dst: new(struct {
			A []string `query:"A,flattened"`
		})},
		{name: "map option", dst: new(struct {
			A []string `query:"A,map"`
		})},
		{name: "key option", dst: new(struct {
			A []string `query:"A,key=K"`
		})},
		{name: "unknown option", dst: new(struct {
			A *string `query:"A,omitempty"`
		})},
		{name: "member on a scalar", dst: new(struct {
			A *string `query:"A,member=M"`
		})},
		{name: "empty member", dst: new(struct {
			A []string `query:"A,member="`
		})},
		{name: "no name", dst: new(struct {
			A *string `query:",required"`
		})},
		{name: "dotted name", dst: new(struct {
			A *string `query:"A.B"`
		})},
		{name: "name used twice", dst: new(struct {
			A *string `query:"A"`
			B *string `query:"A"`
		})},
		{name: "bad xml tag", dst: new(struct {
			A []string `query:"A,member=M" xml:"A,flattened"`
		})},
		{name: "unexported tagged field", dst: new(hasUnexported)},
		{name: "bad nested type", dst: new(badNested)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 2 { // the second time from the cache
				err := Decode(Form{"A": "1"}, tt.dst)
				var e *Error
				if err == nil || errors.As(err, &e) {
					t.Fatalf("Decode = %v, want a plain error", err)
				}
			}
		})
	}
}

// TestDecodeClientBodies decodes the bodies four real clients sent (testdata/client_bodies.txt)
// into types shaped like the generated ones: every client must give the same value.
func TestDecodeClientBodies(t *testing.T) {
	t.Parallel()
	type createSG struct {
		CacheSecurityGroupName *string `query:"CacheSecurityGroupName,required"`
		Description            *string `query:"Description,required"`
		Tags                   []tag   `query:"Tags,member=Tag"`
	}
	type ingress struct {
		CacheSecurityGroupName  *string `query:"CacheSecurityGroupName,required"`
		EC2SecurityGroupName    *string `query:"EC2SecurityGroupName,required"`
		EC2SecurityGroupOwnerID *string `query:"EC2SecurityGroupOwnerId,required"`
	}
	type deleteSG struct {
		CacheSecurityGroupName *string `query:"CacheSecurityGroupName,required"`
	}
	type describeSG struct {
		CacheSecurityGroupName *string `query:"CacheSecurityGroupName"`
		MaxRecords             *int32  `query:"MaxRecords"`
		Marker                 *string `query:"Marker"`
	}
	type describeEvents struct {
		SourceIdentifier *string    `query:"SourceIdentifier"`
		SourceType       *string    `query:"SourceType"`
		StartTime        *time.Time `query:"StartTime"`
		EndTime          *time.Time `query:"EndTime"`
		Duration         *int32     `query:"Duration"`
		MaxRecords       *int32     `query:"MaxRecords"`
		Marker           *string    `query:"Marker"`
	}
	type listTags struct {
		ResourceName *string `query:"ResourceName,required"`
	}
	const arn = "arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg"
	tags := []tag{
		{Key: ptr("env"), Value: ptr("prod")},
		{Key: ptr("novalue")},
		{Key: ptr("team:name"), Value: ptr("a b&c=d/é~*")},
	}
	wantIngress := &ingress{CacheSecurityGroupName: ptr("my-csg"), EC2SecurityGroupName: ptr("ec2-sg-a"), EC2SecurityGroupOwnerID: ptr("210987654321")}
	ops := map[string]struct {
		dst  func() any
		want any
	}{
		"CreateCacheSecurityGroup": {
			dst:  func() any { return new(createSG) },
			want: &createSG{CacheSecurityGroupName: ptr("my-csg"), Description: ptr("My cache security group"), Tags: tags},
		},
		"AddTagsToResource": {
			dst:  func() any { return new(addTagsInput) },
			want: &addTagsInput{ResourceName: ptr(arn), Tags: tags},
		},
		"AuthorizeCacheSecurityGroupIngress": {dst: func() any { return new(ingress) }, want: wantIngress},
		"RevokeCacheSecurityGroupIngress":    {dst: func() any { return new(ingress) }, want: wantIngress},
		"DeleteCacheSecurityGroup": {
			dst:  func() any { return new(deleteSG) },
			want: &deleteSG{CacheSecurityGroupName: ptr("my-csg")},
		},
		"DescribeCacheSecurityGroups": {
			dst:  func() any { return new(describeSG) },
			want: &describeSG{CacheSecurityGroupName: ptr("my-csg"), MaxRecords: ptr(int32(20)), Marker: ptr("abc")},
		},
		"DescribeEvents": {
			dst: func() any { return new(describeEvents) },
			want: &describeEvents{
				SourceIdentifier: ptr("my-csg"),
				SourceType:       ptr("cache-security-group"),
				StartTime:        ptr(time.Date(2015, 2, 2, 10, 0, 0, 0, time.UTC)),
				EndTime:          ptr(time.Date(2015, 2, 3, 11, 30, 45, 250e6, time.UTC)),
				Duration:         ptr(int32(60)),
				MaxRecords:       ptr(int32(20)),
				Marker:           ptr("evt-marker"),
			},
		},
		"ListTagsForResource": {dst: func() any { return new(listTags) }, want: &listTags{ResourceName: ptr(arn)}},
		"RemoveTagsFromResource": {
			dst:  func() any { return new(removeTagsInput) },
			want: &removeTagsInput{ResourceName: ptr(arn), TagKeys: []string{"env", "novalue"}},
		},
	}
	bodies := readClientBodies(t)
	if len(bodies) != 4*len(ops) {
		t.Fatalf("testdata has %d bodies, want %d", len(bodies), 4*len(ops))
	}
	for _, b := range bodies {
		t.Run(b.client+"/"+b.op, func(t *testing.T) {
			t.Parallel()
			op, ok := ops[b.op]
			if !ok {
				t.Fatalf("no expectation for %s", b.op)
			}
			f, err := ParseForm(b.body)
			if err != nil {
				t.Fatalf("ParseForm: %v", err)
			}
			if f["Action"] != b.op || f["Version"] != "2015-02-02" {
				t.Errorf("Action, Version = %q, %q", f["Action"], f["Version"])
			}
			got := op.dst()
			if err := Decode(f, got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(op.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

type clientBody struct{ client, op, body string }

// readClientBodies reads testdata/client_bodies.txt: `client Op body` per line, # comments.
func readClientBodies(tb testing.TB) []clientBody {
	tb.Helper()
	file, err := os.Open("testdata/client_bodies.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	var out []clientBody
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		if len(parts) != 3 {
			tb.Fatalf("testdata/client_bodies.txt: bad line %q", line)
		}
		out = append(out, clientBody{client: parts[0], op: parts[1], body: parts[2]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestDecodeNestingLimit checks that a recursive type cannot be made to recurse once per key
// segment: keys deeper than maxNesting are ignored.
func TestDecodeNestingLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		levels    int
		wantChain int
		wantName  bool
	}{
		{name: "within the limit", levels: maxNesting, wantChain: maxNesting, wantName: true},
		{name: "one past the limit", levels: maxNesting + 1, wantChain: maxNesting, wantName: false},
		{name: "hostile depth", levels: 200000, wantChain: maxNesting, wantName: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := strings.Repeat("Parent.", tt.levels) + "Name"
			var n node
			if err := Decode(Form{key: "x", "Name": "root"}, &n); err != nil {
				t.Fatal(err)
			}
			chain, last := 0, &n
			for last.Parent != nil {
				chain++
				last = last.Parent
			}
			if chain != tt.wantChain || (last.Name != nil) != tt.wantName {
				t.Errorf("decoded a chain of %d parents (innermost named: %v), want %d (%v)", chain, last.Name != nil, tt.wantChain, tt.wantName)
			}
		})
	}
}

// TestErrorIsItsMessage checks that the error text is what the server sends, reachable with
// errors.As through wrapping as the handler does.
func TestErrorIsItsMessage(t *testing.T) {
	t.Parallel()
	err := Decode(Form{"Description": "d"}, new(createInput))
	wrapped := fmt.Errorf("decoding CreateCacheSecurityGroup: %w", err)
	var e *Error
	if !errors.As(wrapped, &e) {
		t.Fatalf("errors.As(%v) found no *Error", wrapped)
	}
	if got, want := e.Error(), "The request must contain the parameter CacheSecurityGroupName."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if _, err := ParseTimestamp("x"); err == nil || err.Error() == "" {
		t.Errorf("ParseTimestamp error = %v, want a non-empty error", err)
	}
}
