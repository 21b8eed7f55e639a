package api

import "context"

// Caller is who a request acts as: every resource lives in one account and
// one region, and nothing is visible across either.
type Caller struct {
	// AccountID is the 12-digit AWS account ID.
	AccountID string
	// Region is the region the request is scoped to, e.g. us-east-1.
	Region string
}

type callerKey struct{}
type requestIDKey struct{}

// exchangeKey finds the handler's *exchange, which is itself the request's
// context (handler.go): its request ID and, once authenticated, its
// caller. WithCaller and WithRequestID, which outrank it, remain for
// everyone else.
type exchangeKey struct{}

// WithCaller returns a context that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored by WithCaller, or the one the
// handler authenticated, and false when there is none (a programming error
// in the server: the handler always sets one).
func CallerFrom(ctx context.Context) (Caller, bool) {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c, true
	}
	if x, ok := ctx.Value(exchangeKey{}).(*exchange); ok && x.authenticated {
		return x.Caller, true
	}
	return Caller{}, false
}

// WithRequestID returns a context that carries the request ID that the
// response will echo in x-amzn-RequestId and <RequestId>.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request ID stored by WithRequestID, or the
// handler's, or "".
func RequestIDFrom(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		return id
	}
	if x, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return x.RequestID
	}
	return ""
}

// IsAccountID reports whether s has the form of an AWS account ID: exactly
// 12 ASCII digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
