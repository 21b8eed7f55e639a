package awsquery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testNS    = "http://elasticache.amazonaws.com/doc/2015-02-02/"
	testReqID = "11111111-1111-1111-1111-111111111111"
)

// envelope wraps result XML the way AppendResponse does, so expectations show only the result.
func envelope(action, result string) string {
	return `<` + action + `Response xmlns="` + testNS + `">` + result +
		`<ResponseMetadata><RequestId>` + testReqID + `</RequestId></ResponseMetadata></` + action + `Response>`
}

func TestAppendResponse(t *testing.T) {
	t.Parallel()
	group := func() *cacheSecurityGroup {
		return &cacheSecurityGroup{
			OwnerID:                ptr("123456789012"),
			CacheSecurityGroupName: ptr("my-csg"),
			Description:            ptr("My cache security group"),
			EC2SecurityGroups: []ec2SecurityGroup{
				{Status: ptr("authorized"), EC2SecurityGroupName: ptr("ec2-sg-a"), EC2SecurityGroupOwnerID: ptr("210987654321")},
				{Status: ptr("authorizing"), EC2SecurityGroupName: ptr("ec2-sg-b"), EC2SecurityGroupOwnerID: ptr("210987654321")},
			},
			ARN: ptr("arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg"),
		}
	}
	tests := []struct {
		name    string
		action  string
		wrapper string
		result  any
		want    string
	}{
		{
			// Shape from the model's CacheSecurityGroup with the wire names of reference/wire.md §3.
			name:    "create",
			action:  "CreateCacheSecurityGroup",
			wrapper: "CreateCacheSecurityGroupResult",
			result:  &createOutput{CacheSecurityGroup: group()},
			want: envelope("CreateCacheSecurityGroup", `<CreateCacheSecurityGroupResult><CacheSecurityGroup>`+
				`<OwnerId>123456789012</OwnerId><CacheSecurityGroupName>my-csg</CacheSecurityGroupName>`+
				`<Description>My cache security group</Description><EC2SecurityGroups>`+
				`<EC2SecurityGroup><Status>authorized</Status><EC2SecurityGroupName>ec2-sg-a</EC2SecurityGroupName><EC2SecurityGroupOwnerId>210987654321</EC2SecurityGroupOwnerId></EC2SecurityGroup>`+
				`<EC2SecurityGroup><Status>authorizing</Status><EC2SecurityGroupName>ec2-sg-b</EC2SecurityGroupName><EC2SecurityGroupOwnerId>210987654321</EC2SecurityGroupOwnerId></EC2SecurityGroup>`+
				`</EC2SecurityGroups><ARN>arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg</ARN>`+
				`</CacheSecurityGroup></CreateCacheSecurityGroupResult>`),
		},
		{
			name:    "empty list written, nil list and nil pointers omitted",
			action:  "DescribeCacheSecurityGroups",
			wrapper: "DescribeCacheSecurityGroupsResult",
			result: &describeGroupsOutput{CacheSecurityGroups: []cacheSecurityGroup{
				{CacheSecurityGroupName: ptr("default"), EC2SecurityGroups: []ec2SecurityGroup{}},
				{CacheSecurityGroupName: ptr("nil-list")},
			}},
			want: envelope("DescribeCacheSecurityGroups", `<DescribeCacheSecurityGroupsResult><CacheSecurityGroups>`+
				`<CacheSecurityGroup><CacheSecurityGroupName>default</CacheSecurityGroupName><EC2SecurityGroups></EC2SecurityGroups></CacheSecurityGroup>`+
				`<CacheSecurityGroup><CacheSecurityGroupName>nil-list</CacheSecurityGroupName></CacheSecurityGroup>`+
				`</CacheSecurityGroups></DescribeCacheSecurityGroupsResult>`),
		},
		{
			name:    "empty top-level list",
			action:  "DescribeCacheSecurityGroups",
			wrapper: "DescribeCacheSecurityGroupsResult",
			result:  &describeGroupsOutput{Marker: ptr("m"), CacheSecurityGroups: []cacheSecurityGroup{}},
			want:    envelope("DescribeCacheSecurityGroups", `<DescribeCacheSecurityGroupsResult><Marker>m</Marker><CacheSecurityGroups></CacheSecurityGroups></DescribeCacheSecurityGroupsResult>`),
		},
		{
			name:    "tag with and without value",
			action:  "ListTagsForResource",
			wrapper: "ListTagsForResourceResult",
			result:  &tagListOutput{TagList: []tag{{Key: ptr("env"), Value: ptr("prod")}, {Key: ptr("novalue"), Value: ptr("")}, {Key: ptr("nil")}}},
			want: envelope("ListTagsForResource", `<ListTagsForResourceResult><TagList>`+
				`<Tag><Key>env</Key><Value>prod</Value></Tag><Tag><Key>novalue</Key><Value></Value></Tag><Tag><Key>nil</Key></Tag>`+
				`</TagList></ListTagsForResourceResult>`),
		},
		{
			name:    "timestamps in milliseconds, UTC",
			action:  "DescribeEvents",
			wrapper: "DescribeEventsResult",
			result: &describeEventsOutput{Events: []event{
				{Message: ptr("whole"), Date: ptr(time.Date(2015, 2, 2, 10, 0, 0, 0, time.UTC))},
				{Message: ptr("fraction"), Date: ptr(time.Date(2015, 2, 3, 13, 30, 45, 123456789, time.FixedZone("", 2*3600)))},
			}},
			want: envelope("DescribeEvents", `<DescribeEventsResult><Events>`+
				`<Event><Message>whole</Message><Date>2015-02-02T10:00:00.000Z</Date></Event>`+
				`<Event><Message>fraction</Message><Date>2015-02-03T11:30:45.123Z</Date></Event>`+
				`</Events></DescribeEventsResult>`),
		},
		{
			name:    "every kind",
			action:  "Op",
			wrapper: "OpResult",
			result: &createInput{
				MaxRecords: ptr(int32(-20)),
				Enabled:    ptr(false),
				Ratio:      ptr(0.25),
				StartTime:  ptr(time.Date(2015, 2, 2, 10, 0, 0, 5e6, time.UTC)),
				Window:     &window{Minutes: ptr(int32(5)), Enabled: ptr(true), Ratio: ptr(1e21)},
				Filters:    []filter{{Name: ptr("f"), Values: []string{"a", ""}}},
				Counts:     []int32{1, 2},
				Times:      []time.Time{time.Date(2015, 2, 2, 10, 0, 0, 0, time.UTC)},
				Flags:      []bool{true},
				Ratios:     []float64{-0.5},
				Note:       "not written",
			},
			want: envelope("Op", `<OpResult><MaxRecords>-20</MaxRecords><StartTime>2015-02-02T10:00:00.005Z</StartTime>`+
				`<Enabled>false</Enabled><Ratio>0.25</Ratio><Window><Minutes>5</Minutes><Enabled>true</Enabled><Ratio>1e+21</Ratio></Window>`+
				`<Filters><Filter><Name>f</Name><Values><Value>a</Value><Value></Value></Values></Filter></Filters>`+
				`<Counts><member>1</member><member>2</member></Counts><Times><member>2015-02-02T10:00:00.000Z</member></Times>`+
				`<Flags><member>true</member></Flags><Ratios><member>-0.5</member></Ratios></OpResult>`),
		},
		{
			name:    "escaping",
			action:  "ListTagsForResource",
			wrapper: "ListTagsForResourceResult",
			result:  &tagListOutput{TagList: []tag{{Key: ptr(`<&]]>"'`), Value: ptr("a\tb\nc\rd\x01e\x00")}}},
			want: envelope("ListTagsForResource", `<ListTagsForResourceResult><TagList><Tag>`+
				`<Key>&lt;&amp;]]&gt;&quot;&apos;</Key><Value>a`+"\tb\nc&#xD;d\uFFFDe\uFFFD"+`</Value>`+
				`</Tag></TagList></ListTagsForResourceResult>`),
		},
		{
			name:    "characters XML cannot carry replaced",
			action:  "ListTagsForResource",
			wrapper: "ListTagsForResourceResult",
			result:  &tagListOutput{TagList: []tag{{Key: ptr("a\xffb\uFFFEc\uFFFFd\xed\xa0\x80é😀\u0085")}}},
			want: envelope("ListTagsForResource", `<ListTagsForResourceResult><TagList><Tag>`+
				"<Key>a\uFFFDb\uFFFDc\uFFFDd\uFFFD\uFFFD\uFFFDé😀\u0085</Key>"+
				`</Tag></TagList></ListTagsForResourceResult>`),
		},
		{
			name:    "no output: result element omitted",
			action:  "DeleteCacheSecurityGroup",
			wrapper: "",
			result:  nil,
			want:    envelope("DeleteCacheSecurityGroup", ""),
		},
		{
			name:    "no wrapper: result ignored",
			action:  "DeleteCacheSecurityGroup",
			wrapper: "",
			result:  &createOutput{CacheSecurityGroup: group()},
			want:    envelope("DeleteCacheSecurityGroup", ""),
		},
		{
			name:    "nil result with wrapper",
			action:  "CreateCacheSecurityGroup",
			wrapper: "CreateCacheSecurityGroupResult",
			result:  nil,
			want:    envelope("CreateCacheSecurityGroup", "<CreateCacheSecurityGroupResult></CreateCacheSecurityGroupResult>"),
		},
		{
			name:    "typed nil result with wrapper",
			action:  "CreateCacheSecurityGroup",
			wrapper: "CreateCacheSecurityGroupResult",
			result:  (*createOutput)(nil),
			want:    envelope("CreateCacheSecurityGroup", "<CreateCacheSecurityGroupResult></CreateCacheSecurityGroupResult>"),
		},
		{
			name:    "empty output struct",
			action:  "CreateCacheSecurityGroup",
			wrapper: "CreateCacheSecurityGroupResult",
			result:  &createOutput{},
			want:    envelope("CreateCacheSecurityGroup", "<CreateCacheSecurityGroupResult></CreateCacheSecurityGroupResult>"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := []byte("prefix:")
			got, err := AppendResponse(prefix, testNS, tt.action, tt.wrapper, tt.result, testReqID)
			if err != nil {
				t.Fatalf("AppendResponse: %v", err)
			}
			if diff := cmp.Diff("prefix:"+tt.want, string(got)); diff != "" {
				t.Errorf("AppendResponse (-want +got):\n%s", diff)
			}
			if err := checkWellFormed(got[len(prefix):]); err != nil {
				t.Errorf("output is not well-formed XML: %v", err)
			}
		})
	}
}

func TestAppendResponseEscapesEnvelope(t *testing.T) {
	t.Parallel()
	got, err := AppendResponse(nil, `a"b&c`, "Op", "", nil, "<id>")
	if err != nil {
		t.Fatal(err)
	}
	want := `<OpResponse xmlns="a&quot;b&amp;c"><ResponseMetadata><RequestId>&lt;id&gt;</RequestId></ResponseMetadata></OpResponse>`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("AppendResponse (-want +got):\n%s", diff)
	}
}

func TestAppendResponseProgrammingErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		result any
	}{
		{name: "struct value", result: createOutput{}},
		{name: "pointer to a non-struct", result: ptr("x")},
		{name: "map", result: map[string]string{}},
		{name: "unsupported field", result: &struct {
			A *int `xml:"A"`
		}{}},
		{name: "flattened list", result: &struct {
			A []string `xml:"A,flattened"`
		}{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte("kept")
			got, err := AppendResponse(buf, testNS, "Op", "OpResult", tt.result, testReqID)
			var e *Error
			if err == nil || errors.As(err, &e) {
				t.Errorf("AppendResponse error = %v, want a plain error", err)
			}
			if string(got) != "kept" {
				t.Errorf("AppendResponse changed the buffer to %q", got)
			}
		})
	}
}

func TestAppendError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sender  bool
		code    string
		message string
		want    string
	}{
		{
			name:    "sender",
			sender:  true,
			code:    "CacheSecurityGroupNotFound",
			message: "CacheSecurityGroup my-csg not found.",
			want: `<ErrorResponse xmlns="` + testNS + `"><Error><Type>Sender</Type><Code>CacheSecurityGroupNotFound</Code>` +
				`<Message>CacheSecurityGroup my-csg not found.</Message></Error><RequestId>` + testReqID + `</RequestId></ErrorResponse>`,
		},
		{
			name:    "receiver",
			sender:  false,
			code:    "InternalFailure",
			message: "An internal error occurred.",
			want: `<ErrorResponse xmlns="` + testNS + `"><Error><Type>Receiver</Type><Code>InternalFailure</Code>` +
				`<Message>An internal error occurred.</Message></Error><RequestId>` + testReqID + `</RequestId></ErrorResponse>`,
		},
		{
			name:    "escaped",
			sender:  true,
			code:    "QuotaExceeded.CacheSecurityGroup",
			message: "a <b> & 'c' \"d\"\r\x00",
			want: `<ErrorResponse xmlns="` + testNS + `"><Error><Type>Sender</Type><Code>QuotaExceeded.CacheSecurityGroup</Code>` +
				`<Message>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot;&#xD;` + "\uFFFD" + `</Message></Error><RequestId>` + testReqID + `</RequestId></ErrorResponse>`,
		},
		{
			name:   "empty message",
			sender: true,
			code:   "MalformedQueryString",
			want: `<ErrorResponse xmlns="` + testNS + `"><Error><Type>Sender</Type><Code>MalformedQueryString</Code>` +
				`<Message></Message></Error><RequestId>` + testReqID + `</RequestId></ErrorResponse>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AppendError([]byte("prefix:"), testNS, tt.sender, tt.code, tt.message, testReqID)
			if diff := cmp.Diff("prefix:"+tt.want, string(got)); diff != "" {
				t.Errorf("AppendError (-want +got):\n%s", diff)
			}
			if err := checkWellFormed(got[len("prefix:"):]); err != nil {
				t.Errorf("output is not well-formed XML: %v", err)
			}
		})
	}
}

// TestRoundTrip encodes what Decode produced and decodes the XML with encoding/xml: text that
// passed Decode's checks must come back byte for byte.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value string }{
		{"markup", `<a href="x">&amp;]]></a>`},
		{"whitespace", " \t\r\n\r\n "},
		{"unicode", "é 😀 \u0085 \uFFFD \U0010FFFF"},
		{"quotes", `'"'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var in tagListOutput
			f := Form{"TagList.Tag.1.Key": tt.value, "TagList.Tag.1.Value": tt.value}
			if err := Decode(f, &in); err != nil {
				t.Fatal(err)
			}
			out, err := AppendResponse(nil, testNS, "ListTagsForResource", "ListTagsForResourceResult", &in, testReqID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseTagList(out)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.value, tt.value}, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscapeFastPath(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("plain text ", 10)
	got := appendEscaped(nil, s)
	if string(got) != s {
		t.Errorf("appendEscaped changed plain text: %q", got)
	}
}
