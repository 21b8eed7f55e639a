package api

import (
	"context"
	"testing"
)

// TestContextCarriers covers the two ways a context carries the request ID
// and the caller: the handler's one value (its exchange, whose caller
// counts only once authenticated) and WithRequestID/WithCaller, which
// outrank it. The exchange is the request's context itself: it must also
// pass on its parent's values and cancellation.
func TestContextCarriers(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	if c, ok := CallerFrom(bg); ok || c != (Caller{}) {
		t.Errorf("CallerFrom(empty) = %v, %v", c, ok)
	}
	if id := RequestIDFrom(bg); id != "" {
		t.Errorf("RequestIDFrom(empty) = %q", id)
	}

	type parentKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(bg, parentKey{}, "parent value"))
	xs := &exchange{Context: parent, Exchange: Exchange{RequestID: "rid-1"}}
	var ctx context.Context = xs
	if v := ctx.Value(parentKey{}); v != "parent value" {
		t.Errorf("the parent's value through the exchange = %v", v)
	}
	child, cancelChild := context.WithCancel(ctx)
	defer cancelChild()
	if id := RequestIDFrom(ctx); id != "rid-1" {
		t.Errorf("RequestIDFrom = %q, want the exchange's", id)
	}
	if c, ok := CallerFrom(ctx); ok {
		t.Errorf("before authentication CallerFrom = %v, true", c)
	}
	handlerCaller := Caller{AccountID: "111111111111", Region: "eu-west-1"}
	xs.Caller, xs.authenticated = handlerCaller, true
	if c, ok := CallerFrom(ctx); !ok || c != handlerCaller {
		t.Errorf("after authentication CallerFrom = %v, %v", c, ok)
	}

	explicit := Caller{AccountID: "222222222222", Region: "us-west-2"}
	ctx2 := WithRequestID(WithCaller(ctx, explicit), "rid-2")
	if c, ok := CallerFrom(ctx2); !ok || c != explicit {
		t.Errorf("WithCaller over the exchange: CallerFrom = %v, %v", c, ok)
	}
	if id := RequestIDFrom(ctx2); id != "rid-2" {
		t.Errorf("WithRequestID over the exchange: RequestIDFrom = %q", id)
	}

	cancel()
	<-child.Done() // the parent's cancellation reaches a context derived from the exchange
	if ctx.Err() != context.Canceled || RequestIDFrom(child) != "rid-1" {
		t.Errorf("after cancel: Err = %v, RequestIDFrom(child) = %q", ctx.Err(), RequestIDFrom(child))
	}
}
