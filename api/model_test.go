package api

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testModel is the part of the pinned model these tests hold the generated
// code against. It is read with encoding/json, independently of the
// generator.
type testModel struct {
	Operations map[string]struct {
		Input  *struct{ Shape string }
		Output *struct {
			Shape         string
			ResultWrapper string
		}
	}
	Shapes map[string]struct {
		Type      string
		Exception bool
		Members   map[string]struct{ Shape, LocationName string }
		Required  []string
		Error     *struct {
			Code           string
			HTTPStatusCode int
			SenderFault    bool
		}
	}
}

func loadTestModel(tb testing.TB) *testModel {
	tb.Helper()
	raw, err := os.ReadFile("model/elasticache-2015-02-02.json")
	if err != nil {
		tb.Fatal(err)
	}
	var m testModel
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return &m
}

// TestModeledFaults holds every generated fault type against its error
// trait: the wire code (never the shape name unless the trait has no code),
// the status and the sender flag.
func TestModeledFaults(t *testing.T) {
	t.Parallel()
	m := loadTestModel(t)
	n := 0
	for name, s := range m.Shapes {
		if !s.Exception && s.Error == nil {
			continue
		}
		n++
		f := modeledFault(name)
		if f == nil {
			t.Errorf("%s: no generated fault type", name)
			continue
		}
		code, status, sender := name, 400, false
		if s.Error != nil {
			if s.Error.Code != "" {
				code = s.Error.Code
			}
			if s.Error.HTTPStatusCode != 0 {
				status = s.Error.HTTPStatusCode
			}
			sender = s.Error.SenderFault
		}
		got := []any{f.ErrorCode(), f.HTTPStatus(), f.SenderFault()}
		if diff := cmp.Diff([]any{code, status, sender}, got); diff != "" {
			t.Errorf("%s: code, status, sender (-model +generated):\n%s", name, diff)
		}
		if reflect.TypeOf(f).Elem().Name() != name {
			t.Errorf("%s: generated type is %T", name, f)
		}
	}
	if n != 76 {
		t.Errorf("the model has %d error shapes, want 76", n)
	}
	if modeledFault("CacheSecurityGroup") != nil {
		t.Error("a data shape has a fault type")
	}
}

// TestIrregularFaults spells out the codes SPEC warns about, in case the
// model and the generator ever agree on something wrong.
func TestIrregularFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fault  Fault
		code   string
		status int
	}{
		{&CacheSecurityGroupQuotaExceededFault{}, "QuotaExceeded.CacheSecurityGroup", 400},
		{&CacheSecurityGroupNotFoundFault{}, "CacheSecurityGroupNotFound", 404},
		{&CacheSubnetGroupNotFoundFault{}, "CacheSubnetGroupNotFoundFault", 400},
		{&ReplicationGroupNotFoundFault{}, "ReplicationGroupNotFoundFault", 404},
		{&SnapshotNotFoundFault{}, "SnapshotNotFoundFault", 404},
		{&AuthorizationNotFoundFault{}, "AuthorizationNotFound", 404},
		{&TagNotFoundFault{}, "TagNotFound", 404},
		{&InvalidParameterValueException{}, "InvalidParameterValue", 400},
		{&InvalidParameterCombinationException{}, "InvalidParameterCombination", 400},
	}
	for _, tt := range tests {
		if tt.fault.ErrorCode() != tt.code || tt.fault.HTTPStatus() != tt.status || !tt.fault.SenderFault() {
			t.Errorf("%T: got %s %d sender=%t, want %s %d sender", tt.fault,
				tt.fault.ErrorCode(), tt.fault.HTTPStatus(), tt.fault.SenderFault(), tt.code, tt.status)
		}
	}
}

// TestOperationTable holds the table against the model: every operation
// present, with its result wrapper and its own input and output types, and
// answering NotImplemented through Unimplemented.
func TestOperationTable(t *testing.T) {
	t.Parallel()
	m := loadTestModel(t)
	var names []string
	for name := range m.Operations {
		names = append(names, name)
	}
	slices.Sort(names)
	if diff := cmp.Diff(names, Operations()); diff != "" {
		t.Fatalf("Operations() (-model +generated):\n%s", diff)
	}
	if len(names) != 75 {
		t.Errorf("the model has %d operations, want 75", len(names))
	}

	svc := reflect.TypeFor[Service]()
	for _, name := range names {
		mop := m.Operations[name]
		op, ok := LookupOperation(name)
		if !ok {
			t.Errorf("%s: not in the table", name)
			continue
		}
		wrapper := ""
		if mop.Output != nil {
			wrapper = mop.Output.ResultWrapper
		}
		if op.Name != name || op.ResultWrapper != wrapper {
			t.Errorf("%s: row says %q, wrapper %q; model wrapper %q", name, op.Name, op.ResultWrapper, wrapper)
		}
		in := op.NewInput()
		if got := reflect.TypeOf(in).String(); got != "*api."+name+"Input" {
			t.Errorf("%s: NewInput returns %s", name, got)
		}
		if _, ok := svc.MethodByName(name); !ok {
			t.Errorf("%s: not a Service method", name)
		}
		out, err := op.Invoke(context.Background(), Unimplemented{}, in)
		var e *Error
		if out != nil || !errors.As(err, &e) || e.Code != "NotImplemented" || e.Status != 501 ||
			!strings.Contains(e.Message, " "+name+" ") {
			t.Errorf("%s: Unimplemented answered %v, %v", name, out, err)
		}
	}
	if svc.NumMethod() != len(names) {
		t.Errorf("Service has %d methods, the model %d operations", svc.NumMethod(), len(names))
	}
	if _, ok := LookupOperation("createCacheSecurityGroup"); ok {
		t.Error("lookup is not case-sensitive")
	}
}

// TestLookupOperationCopies pins that a caller cannot change the table.
func TestLookupOperationCopies(t *testing.T) {
	t.Parallel()
	op, _ := LookupOperation("DeleteCacheSecurityGroup")
	op.ResultWrapper = "Changed"
	again, _ := LookupOperation("DeleteCacheSecurityGroup")
	if again.ResultWrapper != "" {
		t.Errorf("the table changed: %q", again.ResultWrapper)
	}
}

// TestShapeTags spot-checks the generated tags against the model for the
// operations this server implements first: required members, list member
// names and wire names.
func TestShapeTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ   any
		field string
		query string
		xml   string
	}{
		{CreateCacheSecurityGroupInput{}, "CacheSecurityGroupName", "CacheSecurityGroupName,required", "CacheSecurityGroupName"},
		{CreateCacheSecurityGroupInput{}, "Tags", "Tags,member=Tag", "Tags,member=Tag"},
		{AddTagsToResourceInput{}, "Tags", "Tags,member=Tag,required", "Tags,member=Tag"},
		{RemoveTagsFromResourceInput{}, "TagKeys", "TagKeys,member=member,required", "TagKeys,member=member"},
		{DescribeCacheSecurityGroupsOutput{}, "CacheSecurityGroups", "CacheSecurityGroups,member=CacheSecurityGroup", "CacheSecurityGroups,member=CacheSecurityGroup"},
		{CacheSecurityGroup{}, "EC2SecurityGroups", "EC2SecurityGroups,member=EC2SecurityGroup", "EC2SecurityGroups,member=EC2SecurityGroup"},
		{DescribeEventsOutput{}, "Events", "Events,member=Event", "Events,member=Event"},
		{DescribeEventsInput{}, "StartTime", "StartTime", "StartTime"},
	}
	for _, tt := range tests {
		f, ok := reflect.TypeOf(tt.typ).FieldByName(tt.field)
		if !ok {
			t.Errorf("%T has no field %s", tt.typ, tt.field)
			continue
		}
		if q, x := f.Tag.Get("query"), f.Tag.Get("xml"); q != tt.query || x != tt.xml {
			t.Errorf("%T.%s: query %q xml %q, want %q %q", tt.typ, tt.field, q, x, tt.query, tt.xml)
		}
	}
	if f, _ := reflect.TypeFor[DescribeEventsInput]().FieldByName("EndTime"); f.Type.String() != "*time.Time" {
		t.Errorf("DescribeEventsInput.EndTime is %s", f.Type)
	}
	if n := reflect.TypeFor[DeleteCacheSecurityGroupOutput]().NumField(); n != 0 {
		t.Errorf("DeleteCacheSecurityGroupOutput has %d fields", n)
	}
}

// TestCommonErrors pins codes, statuses, types and texts of errors.go.
func TestCommonErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err     Fault
		code    string
		status  int
		sender  bool
		message string
	}{
		{MissingAction(), "MissingAction", 400, true, "Missing Action"},
		{InvalidAction("Foo"), "InvalidAction", 400, true, "The action Foo is not valid for this web service."},
		{NotImplemented("Foo"), "NotImplemented", 501, false, "The action Foo is not implemented yet."},
		{MethodNotAllowed("PUT"), "MethodNotAllowed", 405, true, "The HTTP method PUT is not allowed; use POST or GET."},
		{MissingParameter("P"), "MissingParameter", 400, true, "The request must contain the parameter P."},
		{InvalidParameterValue("bad"), "InvalidParameterValue", 400, true, "bad"},
		{InvalidParameterCombination("both"), "InvalidParameterCombination", 400, true, "both"},
		{UnsupportedVersion("2014-01-01"), "InvalidParameterValue", 400, true, "Unsupported API version 2014-01-01."},
		{MalformedQueryString("bad %"), "MalformedQueryString", 404, true, "bad %"},
		{RequestEntityTooLarge(1 << 20), "RequestEntityTooLarge", 413, true, "Request body must not exceed 1048576 bytes."},
		{Throttling(), "Throttling", 400, true, "Rate exceeded"},
		{ServiceUnavailable(), "ServiceUnavailable", 503, false, "Service is temporarily unavailable. Try again later."},
		{InternalFailure(), "InternalFailure", 500, false, "The request processing has failed because of an unknown error, exception or failure."},
		{MissingAuthenticationToken(), "MissingAuthenticationToken", 403, true, "Request is missing Authentication Token"},
		{InvalidClientTokenID(), "InvalidClientTokenId", 403, true, "The security token included in the request is invalid."},
		{SignatureDoesNotMatch("sig"), "SignatureDoesNotMatch", 403, true, "sig"},
		{IncompleteSignature("inc"), "IncompleteSignature", 400, true, "inc"},
		{RequestExpired("exp"), "RequestExpired", 400, true, "exp"},
	}
	for _, tt := range tests {
		got := []any{tt.err.ErrorCode(), tt.err.HTTPStatus(), tt.err.SenderFault(), tt.err.ErrorMessage()}
		if diff := cmp.Diff([]any{tt.code, tt.status, tt.sender, tt.message}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.code, diff)
		}
		if want := tt.code + ": " + tt.message; tt.err.Error() != want {
			t.Errorf("Error() = %q, want %q", tt.err.Error(), want)
		}
	}
	if got := (&TagNotFoundFault{}).Error(); got != "TagNotFound" {
		t.Errorf("Error() without a message = %q", got)
	}
}
