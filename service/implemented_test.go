package service

import (
	"errors"
	"fmt"
	"slices"
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
