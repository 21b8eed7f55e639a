package faultinject

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/elasticache-server/elasticache-server/api"
	"github.com/elasticache-server/elasticache-server/sigv4"
)

// The errors a rule can answer with: the api faults clients retry.
const (
	// Throttling is api.Throttling: 400, retried by every SDK with backoff.
	Throttling = "Throttling"
	// ServiceUnavailable is api.ServiceUnavailable: 503.
	ServiceUnavailable = "ServiceUnavailable"
	// InternalFailure is api.InternalFailure: 500.
	InternalFailure = "InternalFailure"
)

// AnyAction is the Action of a rule that matches every operation.
const AnyAction = "*"

// MaxDelay bounds a rule's delay: longer than the server's write timeout
// (60 s by default) only cuts the connection, and ten minutes is already
// more than any client waits.
const MaxDelay = 10 * time.Minute

// MaxCount bounds a rule's count, so that it stays a plain int everywhere.
const MaxCount = 1_000_000_000

// Rule says which requests a fault hits, what happens to them and when.
// The zero value of each match field matches everything.
type Rule struct {
	// Action is an operation name (CreateCacheSecurityGroup), or "*" (or
	// empty) for every operation.
	Action string `json:"action,omitempty"`
	// Account, when set, restricts the rule to one 12-digit account.
	Account string `json:"account,omitempty"`
	// Region, when set, restricts the rule to one region.
	Region string `json:"region,omitempty"`
	// Error is the answer: Throttling, ServiceUnavailable or
	// InternalFailure; empty means the request is answered normally.
	Error string `json:"error,omitempty"`
	// Delay is how long a hit request waits before it is served (or
	// answered Error). A rule needs an Error, a Delay or both.
	Delay Duration `json:"delay,omitempty"`
	// Count, when positive, is how many matching requests the rule hits
	// before it is used up; 0 means no limit.
	Count int `json:"count,omitempty"`
	// Probability, when set, is the chance in (0, 1] that a matching request
	// is hit; nil means every matching request is.
	Probability *float64 `json:"probability,omitempty"`
	// Seed, when set, seeds this rule's random source instead of the set's
	// seed.
	Seed *uint64 `json:"seed,omitempty"`
}

// Duration is a time.Duration written as Go writes durations ("250ms",
// "1.5s") in JSON, so that a rule reads the same in JSON and YAML.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "250ms".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string; a bare number is refused because
// its unit would be a guess.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`must be a duration string such as "250ms" or "2s"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New(`must be a duration string such as "250ms" or "2s"`)
	}
	*d = Duration(v)
	return nil
}

// FieldError is a rule that cannot be used, and why. Field names the
// offending field as the JSON spells it ("probability"), prefixed by the
// rule's position in a list ("[1].probability"); it is empty when the
// problem is the document as a whole.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// in prefixes the field with a list position.
func (e *FieldError) in(i int) *FieldError {
	f := "[" + strconv.Itoa(i) + "]"
	if e.Field != "" {
		f += "." + e.Field
	}
	return &FieldError{Field: f, Message: e.Message}
}

// Validate checks a rule; the error is a *FieldError.
func (r Rule) Validate() error {
	if r.Action != "" && r.Action != AnyAction {
		if _, ok := api.LookupOperation(r.Action); !ok {
			return &FieldError{"action", fmt.Sprintf("%q is not an ElastiCache operation; use an operation name such as DescribeCacheSecurityGroups, or \"*\" for all", r.Action)}
		}
	}
	if r.Account != "" && !api.IsAccountID(r.Account) {
		return &FieldError{"account", "must be a 12-digit account ID"}
	}
	if r.Region != "" && !sigv4.IsRegion(r.Region) {
		return &FieldError{"region", "must be a region name such as us-east-1"}
	}
	switch r.Error {
	case "", Throttling, ServiceUnavailable, InternalFailure:
	default:
		return &FieldError{"error", "must be Throttling, ServiceUnavailable or InternalFailure"}
	}
	if r.Delay < 0 || time.Duration(r.Delay) > MaxDelay {
		return &FieldError{"delay", "must be between 0 and " + MaxDelay.String()}
	}
	if r.Error == "" && r.Delay == 0 {
		return &FieldError{"error", "a rule needs an error, a delay or both"}
	}
	if r.Count < 0 || r.Count > MaxCount {
		return &FieldError{"count", "must be a whole number from 0 (no limit) to " + strconv.Itoa(MaxCount)}
	}
	if p := r.Probability; p != nil && !(*p > 0 && *p <= 1) {
		return &FieldError{"probability", "must be more than 0 and at most 1"}
	}
	return nil
}

// fault is the answer of a rule's Error, nil when it has none.
func (r Rule) fault() error {
	switch r.Error {
	case Throttling:
		return api.Throttling()
	case ServiceUnavailable:
		return api.ServiceUnavailable()
	case InternalFailure:
		return api.InternalFailure()
	}
	return nil
}

// DecodeRules reads the JSON of one rule (an object) or of several (an
// array of objects), strictly: unknown fields, wrong types and trailing
// data are errors. It validates every rule; the error is a *FieldError
// naming the field, with the rule's position when the document is a list.
func DecodeRules(doc []byte) ([]Rule, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		return nil, &FieldError{"", "the body must be a rule (a JSON object) or a list of rules"}
	}
	if doc[0] != '[' {
		r, err := decodeRule(doc)
		if err != nil {
			return nil, err
		}
		return []Rule{r}, nil
	}
	var items []json.RawMessage
	if err := strictDecode(doc, &items); err != nil {
		return nil, &FieldError{"", "the body must be a rule (a JSON object) or a list of rules: " + err.Error()}
	}
	if len(items) == 0 {
		return nil, &FieldError{"", "the list of rules is empty"}
	}
	rules := make([]Rule, 0, len(items))
	for i, item := range items {
		r, err := decodeRule(item)
		if err != nil {
			var fe *FieldError
			errors.As(err, &fe)
			return nil, fe.in(i)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// decodeRule reads and validates one rule object.
func decodeRule(doc []byte) (Rule, error) {
	var r Rule
	if len(doc) == 0 || doc[0] != '{' {
		return r, &FieldError{"", "a rule must be a JSON object"}
	}
	if err := strictDecode(doc, &r); err != nil {
		return r, jsonFieldError(err)
	}
	return r, r.Validate()
}

// strictDecode decodes exactly one JSON value with no unknown fields.
func strictDecode(doc []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// jsonFieldError turns encoding/json's error into a FieldError naming the
// field it is about, where it says.
func jsonFieldError(err error) *FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &FieldError{te.Field, "must be " + fieldType(te.Field)}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &FieldError{strings.Trim(name, `"`), "is not a field of a rule (action, account, region, error, delay, count, probability, seed)"}
	}
	// A custom decoder's error (Duration) comes wrapped with no field; it
	// is the only one, so name it.
	if strings.Contains(msg, "duration string") {
		return &FieldError{"delay", `must be a duration string such as "250ms" or "2s"`}
	}
	return &FieldError{"", "not a valid rule: " + strings.TrimPrefix(msg, "json: ")}
}

// fieldType says what a field of a rule holds, for type errors.
func fieldType(field string) string {
	switch field {
	case "account":
		return "a string of 12 digits"
	case "delay":
		return `a duration string such as "250ms" or "2s"`
	case "count":
		return "a whole number"
	case "probability":
		return "a number"
	case "seed":
		return "a whole number from 0 to 18446744073709551615"
	}
	return "a string" // action, region, error
}
