package awsquery

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkParseFormDecode measures the decode half of a CreateCacheSecurityGroup request with
// three tags, as botocore sends it.
func BenchmarkParseFormDecode(b *testing.B) {
	const body = "Action=CreateCacheSecurityGroup&Version=2015-02-02&CacheSecurityGroupName=my-csg" +
		"&Description=My+cache+security+group&Tags.Tag.1.Key=env&Tags.Tag.1.Value=prod" +
		"&Tags.Tag.2.Key=novalue&Tags.Tag.3.Key=team%3Aname&Tags.Tag.3.Value=a+b%26c%3Dd%2F%C3%A9~%2A"
	type createSG struct {
		CacheSecurityGroupName *string `query:"CacheSecurityGroupName,required" xml:"CacheSecurityGroupName"`
		Description            *string `query:"Description,required" xml:"Description"`
		Tags                   []tag   `query:"Tags,member=Tag" xml:"Tags,member=Tag"`
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := ParseForm(body)
		if err != nil {
			b.Fatal(err)
		}
		var in createSG
		if err := Decode(f, &in); err != nil {
			b.Fatal(err)
		}
		if len(in.Tags) != 3 {
			b.Fatalf("decoded %d tags", len(in.Tags))
		}
	}
}

// BenchmarkAppendResponse measures a DescribeCacheSecurityGroups answer with 100 groups of two
// EC2 entries each, into a reused buffer as the handler would.
func BenchmarkAppendResponse(b *testing.B) {
	out := &describeGroupsOutput{Marker: ptr("next-page-token")}
	for i := range 100 {
		name := "group-" + strconv.Itoa(i)
		out.CacheSecurityGroups = append(out.CacheSecurityGroups, cacheSecurityGroup{
			OwnerID:                ptr("123456789012"),
			CacheSecurityGroupName: ptr(name),
			Description:            ptr("Security group " + name + " for the <web> & \"api\" tiers"),
			EC2SecurityGroups: []ec2SecurityGroup{
				{Status: ptr("authorized"), EC2SecurityGroupName: ptr("ec2-sg-a"), EC2SecurityGroupOwnerID: ptr("210987654321")},
				{Status: ptr("authorizing"), EC2SecurityGroupName: ptr("ec2-sg-b"), EC2SecurityGroupOwnerID: ptr("210987654321")},
			},
			ARN: ptr("arn:aws:elasticache:us-east-1:123456789012:securitygroup:" + name),
		})
	}
	buf, err := AppendResponse(nil, testNS, "DescribeCacheSecurityGroups", "DescribeCacheSecurityGroupsResult", out, testReqID)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, err = AppendResponse(buf[:0], testNS, "DescribeCacheSecurityGroups", "DescribeCacheSecurityGroupsResult", out, testReqID)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendResponseEvents adds timestamps to the mix: 100 events.
func BenchmarkAppendResponseEvents(b *testing.B) {
	out := &describeEventsOutput{}
	date := time.Date(2015, 2, 2, 10, 0, 0, 123e6, time.UTC)
	for range 100 {
		out.Events = append(out.Events, event{
			SourceIdentifier: ptr("my-csg"), SourceType: ptr("cache-security-group"),
			Message: ptr("Cache security group created"), Date: ptr(date),
		})
	}
	buf, err := AppendResponse(nil, testNS, "DescribeEvents", "DescribeEventsResult", out, testReqID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		buf, err = AppendResponse(buf[:0], testNS, "DescribeEvents", "DescribeEventsResult", out, testReqID)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendEscaped escapes the text of a describe-by-name answer: names, an ARN, an
// account ID, a description and a request ID, none of which needs escaping.
func BenchmarkAppendEscaped(b *testing.B) {
	texts := []string{"http://elasticache.amazonaws.com/doc/2015-02-02/", "seed-000042", "000000000000",
		"bench seed group for describe-by-name", "arn:aws:elasticache:us-east-1:000000000000:securitygroup:seed-000042",
		"3bb8b765-ea88-4cd0-a1b9-fefc3b8172df"}
	n := 0
	for _, s := range texts {
		n += len(s)
	}
	b.SetBytes(int64(n))
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		buf = buf[:0]
		for _, s := range texts {
			buf = appendEscaped(buf, s)
		}
	}
}
