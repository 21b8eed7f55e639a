package awsquery

// ErrorKind classifies a decoding failure so the caller can pick the AWS error code without
// parsing the message.
type ErrorKind int

const (
	// Malformed means the body cannot be percent-decoded; the caller answers
	// MalformedQueryString (404).
	Malformed ErrorKind = iota + 1
	// Duplicate means a parameter was given more than once; the caller answers
	// InvalidParameterValue.
	Duplicate
	// Missing means a required parameter is absent; the caller answers MissingParameter.
	Missing
	// Empty means a required parameter is present but empty ("" or the empty list `Tags=`);
	// the caller answers InvalidParameterValue.
	Empty
	// Invalid means a value does not parse or is not allowed; the caller answers
	// InvalidParameterValue.
	Invalid
)

// Error is a decoding failure caused by the request, never by the program. Param is the wire
// name of the offending parameter (the full key inside lists, e.g. Tags.Tag.2.Key; empty for
// Malformed) and Message is the complete AWS-style message the server sends. Messages name the
// parameter but never echo the value: it may be huge, binary or something XML cannot carry.
type Error struct {
	Kind    ErrorKind
	Param   string
	Message string
}

// Error returns the message the server sends.
func (e *Error) Error() string { return e.Message }

func malformedError() *Error {
	return &Error{Kind: Malformed, Message: "The query string contains an invalid percent-encoding."}
}

func duplicateError(p string) *Error {
	return &Error{Kind: Duplicate, Param: p, Message: "The parameter " + p + " was given more than once."}
}

func missingError(p string) *Error {
	return &Error{Kind: Missing, Param: p, Message: "The request must contain the parameter " + p + "."}
}

func emptyError(p string) *Error {
	return &Error{Kind: Empty, Param: p, Message: p + " is required"}
}

// invalidError builds the InvalidParameterValue message; why is a fixed phrase, never the value.
func invalidError(p, why string) *Error {
	return &Error{Kind: Invalid, Param: p, Message: "Invalid value for parameter " + p + ": " + why + "."}
}

// The reasons invalidError gives.
const (
	whyNotInteger  = "not an integer"
	whyOutOfRange  = "out of range for an integer"
	whyNotBoolean  = "must be true or false"
	whyNotNumber   = "not a number"
	whyNotTime     = "not an ISO 8601 timestamp"
	whyNotUTF8     = "not valid UTF-8"
	whyXMLChar     = "contains a character XML cannot carry"
	whyListIndex   = "list indices are whole numbers starting at 1"
	whyListPrefix  = "a list is sent as "
	listIndexShape = ".N"
)
