package api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Service for handler tests: the nine cache-security-group
// family operations record what the handler decoded and answer a canned
// output (or err, when set); everything else is Unimplemented.
type recorder struct {
	Unimplemented
	err error // returned by every recorded operation when non-nil

	mu        sync.Mutex
	calls     int
	in        any
	caller    Caller
	hasCaller bool
	requestID string
}

func (r *recorder) record(ctx context.Context, in any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.in = in
	r.caller, r.hasCaller = CallerFrom(ctx)
	r.requestID = RequestIDFrom(ctx)
	return r.err
}

// last returns the input of the last call, nil when there was none.
func (r *recorder) last() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.in
}

func answer[O any](r *recorder, ctx context.Context, in any, out *O) (*O, error) {
	if err := r.record(ctx, in); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *recorder) AddTagsToResource(ctx context.Context, in *AddTagsToResourceInput) (*AddTagsToResourceOutput, error) {
	return answer(r, ctx, in, &AddTagsToResourceOutput{TagList: sampleTags()})
}

func (r *recorder) AuthorizeCacheSecurityGroupIngress(ctx context.Context, in *AuthorizeCacheSecurityGroupIngressInput) (*AuthorizeCacheSecurityGroupIngressOutput, error) {
	g := sampleGroup("authorized", "authorizing")
	return answer(r, ctx, in, &AuthorizeCacheSecurityGroupIngressOutput{CacheSecurityGroup: &g})
}

func (r *recorder) CreateCacheSecurityGroup(ctx context.Context, in *CreateCacheSecurityGroupInput) (*CreateCacheSecurityGroupOutput, error) {
	g := sampleGroup()
	return answer(r, ctx, in, &CreateCacheSecurityGroupOutput{CacheSecurityGroup: &g})
}

func (r *recorder) DeleteCacheSecurityGroup(ctx context.Context, in *DeleteCacheSecurityGroupInput) (*DeleteCacheSecurityGroupOutput, error) {
	return answer(r, ctx, in, &DeleteCacheSecurityGroupOutput{})
}

func (r *recorder) DescribeCacheSecurityGroups(ctx context.Context, in *DescribeCacheSecurityGroupsInput) (*DescribeCacheSecurityGroupsOutput, error) {
	def := CacheSecurityGroup{
		OwnerId:                ptr("123456789012"),
		CacheSecurityGroupName: ptr("default"),
		Description:            ptr("default"),
		EC2SecurityGroups:      []EC2SecurityGroup{},
		ARN:                    ptr("arn:aws:elasticache:us-east-1:123456789012:securitygroup:default"),
	}
	return answer(r, ctx, in, &DescribeCacheSecurityGroupsOutput{
		Marker:              ptr("next-page-token"),
		CacheSecurityGroups: []CacheSecurityGroup{def, sampleGroup("authorized", "authorizing")},
	})
}

func (r *recorder) DescribeEvents(ctx context.Context, in *DescribeEventsInput) (*DescribeEventsOutput, error) {
	event := func(msg string, at time.Time) Event {
		return Event{
			SourceIdentifier: ptr("my-csg"),
			SourceType:       ptr(SourceTypeCacheSecurityGroup),
			Message:          ptr(msg),
			Date:             &at,
		}
	}
	return answer(r, ctx, in, &DescribeEventsOutput{
		Marker: ptr("events-next"),
		Events: []Event{
			event("Authorized EC2 security group ec2-sg-a (owner 210987654321)", time.Date(2015, 2, 2, 10, 5, 0, 123_000_000, time.UTC)),
			event("Cache security group created", time.Date(2015, 2, 2, 10, 0, 1, 0, time.UTC)),
		},
	})
}

func (r *recorder) ListTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	return answer(r, ctx, in, &ListTagsForResourceOutput{TagList: sampleTags()})
}

func (r *recorder) RemoveTagsFromResource(ctx context.Context, in *RemoveTagsFromResourceInput) (*RemoveTagsFromResourceOutput, error) {
	return answer(r, ctx, in, &RemoveTagsFromResourceOutput{TagList: sampleTags()[:1]})
}

func (r *recorder) RevokeCacheSecurityGroupIngress(ctx context.Context, in *RevokeCacheSecurityGroupIngressInput) (*RevokeCacheSecurityGroupIngressOutput, error) {
	g := sampleGroup("revoking")
	return answer(r, ctx, in, &RevokeCacheSecurityGroupIngressOutput{CacheSecurityGroup: &g})
}

// sampleGroup is my-csg with one EC2 entry per status given; none gives
// the empty, non-nil list a new group answers.
func sampleGroup(statuses ...string) CacheSecurityGroup {
	g := CacheSecurityGroup{
		OwnerId:                ptr("123456789012"),
		CacheSecurityGroupName: ptr("my-csg"),
		Description:            ptr("My cache security group"),
		EC2SecurityGroups:      []EC2SecurityGroup{},
		ARN:                    ptr("arn:aws:elasticache:us-east-1:123456789012:securitygroup:my-csg"),
	}
	for i, s := range statuses {
		g.EC2SecurityGroups = append(g.EC2SecurityGroups, EC2SecurityGroup{
			Status:                  ptr(s),
			EC2SecurityGroupName:    ptr("ec2-sg-" + string(rune('a'+i))),
			EC2SecurityGroupOwnerId: ptr("210987654321"),
		})
	}
	return g
}

// sampleTags are tags as the service returns them: a Value that was sent
// null is stored and answered as "" (SPEC §4), so every Tag has a Value.
func sampleTags() []Tag {
	return []Tag{
		{Key: ptr("env"), Value: ptr("prod")},
		{Key: ptr("novalue"), Value: ptr("")},
		{Key: ptr("team:name"), Value: ptr("a b&c=d/é~*")},
	}
}

func ptr[T any](v T) *T { return &v }

// response is an answer of the handler, its body parsed enough to check
// the envelope.
type response struct {
	status    int
	header    http.Header
	body      string
	requestID string // the body's <RequestId>
	// Set for an ErrorResponse only.
	errType, code, message string
}

// do serves req through h and checks what every answer must have:
// Content-Type text/xml, a correct Content-Length, a body that is XML with
// one RequestId, and an x-amzn-RequestId header equal to it.
func do(tb testing.TB, h http.Handler, req *http.Request) response {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: string(body)}

	if ct := res.Header.Get("Content-Type"); ct != "text/xml" {
		tb.Errorf("Content-Type = %q, want text/xml", ct)
	}
	if cl := res.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		tb.Errorf("Content-Length = %q, body has %d bytes", cl, len(body))
	}

	var ids []string
	var path []string
	dec := xml.NewDecoder(strings.NewReader(r.body))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("body is not XML: %v\n%s", err, body)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 {
				continue
			}
			text := string(t)
			switch strings.Join(path, "/") {
			case "ErrorResponse/RequestId":
				ids = append(ids, text)
			case "ErrorResponse/Error/Type":
				r.errType = text
			case "ErrorResponse/Error/Code":
				r.code = text
			case "ErrorResponse/Error/Message":
				r.message = text
			default:
				if len(path) == 3 && path[1] == "ResponseMetadata" && path[2] == "RequestId" {
					ids = append(ids, text)
				}
			}
		}
	}
	if len(ids) != 1 {
		tb.Fatalf("body has %d RequestIds, want 1:\n%s", len(ids), body)
	}
	r.requestID = ids[0]
	if got := res.Header.Get("X-Amzn-RequestId"); got != r.requestID {
		tb.Errorf("x-amzn-RequestId = %q, body RequestId = %q", got, r.requestID)
	}
	return r
}

// post builds a POST / with a form body, as the SDKs send it.
func post(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return req
}

// fixedID returns a NewRequestID that always answers id, for goldens.
func fixedID(id string) func() string { return func() string { return id } }
