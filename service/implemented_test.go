package service

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/elasticache-server/elasticache-server/api"
)

// TestImplementedGuard calls every operation of the model with an empty
// input: those the service claims must answer anything but
// NotImplemented, and the rest must answer NotImplemented, so the claim
// and the methods cannot drift apart.
func TestImplementedGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	claimed := Implemented()
	if !slices.IsSorted(claimed) {
		t.Fatalf("Implemented() is not sorted: %v", claimed)
	}
	for _, name := range claimed {
		if _, ok := api.LookupOperation(name); !ok {
			t.Errorf("Implemented() names %s, which the model does not have", name)
		}
	}
	for _, name := range api.Operations() {
		op, _ := api.LookupOperation(name)
		err := invokeEmpty(f.svc, op)
		var fault api.Fault
		notImplemented := errors.As(err, &fault) && fault.ErrorCode() == "NotImplemented"
		switch claims := slices.Contains(claimed, name); {
		case claims && notImplemented:
			t.Errorf("%s is claimed but answers NotImplemented: is its method's name right?", name)
		case !claims && !notImplemented:
			t.Errorf("%s answers %v but Implemented() does not list it", name, err)
		}
	}
}

// invokeEmpty calls op with an empty input. The handler checks required
// members before a method sees them, so a method may assume them and
// fail on an empty input: that still shows it is implemented.
func invokeEmpty(svc api.Service, op *api.Operation) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panicked on an empty input: %v", r)
		}
	}()
	_, err = op.Invoke(ctxA, svc, op.NewInput())
	return err
}

// TestPaginatedOperationsPage: every claimed operation the model's
// paginators list honours its limit and its marker, found by the names
// the paginator gives: a limit below 20 and a marker this server did not
// issue are refused.
func TestPaginatedOperationsPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	paged := 0
	for _, name := range Implemented() {
		p, ok := api.PaginatorOf(name)
		if !ok {
			continue
		}
		paged++
		op, _ := api.LookupOperation(name)
		for _, c := range []struct {
			field string
			value any
		}{{p.LimitKey, int32(19)}, {p.InputToken, "not-a-marker"}} {
			in := op.NewInput()
			fillRequired(in)
			fv := reflect.ValueOf(in).Elem().FieldByName(c.field)
			if !fv.IsValid() {
				t.Fatalf("%s input has no %s", name, c.field)
			}
			v := reflect.New(fv.Type().Elem())
			v.Elem().Set(reflect.ValueOf(c.value))
			fv.Set(v)
			_, err := op.Invoke(ctxA, f.svc, in)
			if code := faultCode(err); code != "InvalidParameterValue" {
				t.Errorf("%s with %s=%v: %v, want InvalidParameterValue", name, c.field, c.value, err)
			}
		}
	}
	if paged < 3 {
		t.Fatalf("only %d paginated operations claimed", paged)
	}
}

// requiredValues are valid values of the required members of paginated
// operations, which the handler would have refused to leave out.
var requiredValues = map[string]string{
	"CacheParameterGroupFamily": "redis7",
	"CacheParameterGroupName":   "default.redis7",
}

// fillRequired sets in's required string members from requiredValues.
func fillRequired(in any) {
	v := reflect.ValueOf(in).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if val, ok := requiredValues[f.Name]; ok && strings.Contains(f.Tag.Get("query"), ",required") {
			v.Field(i).Set(reflect.ValueOf(&val))
		}
	}
}
