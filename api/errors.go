package api

import (
	"fmt"
	"net/http"
)

// Fault is an error the client may see: the handler answers it with an
// ErrorResponse carrying its code, message, status and type. Modeled errors
// (faults_gen.go) and the common errors below implement it; the handler
// finds it with errors.As, so wrapping with %w keeps a fault a fault.
type Fault interface {
	error
	// ErrorCode is the wire <Code>, from the model's error trait for a
	// modeled error; never derived from a Go or shape name.
	ErrorCode() string
	// ErrorMessage is the wire <Message>.
	ErrorMessage() string
	// HTTPStatus is the status of the response.
	HTTPStatus() int
	// SenderFault reports whether the caller is at fault: <Type>Sender</Type>
	// when true, Receiver otherwise.
	SenderFault() bool
}

// Error is a common AWS error that no operation models: the query
// protocol's own errors (MissingAction, MalformedQueryString, …),
// authentication errors and internal failures. Build one with the
// constructors below, so that codes and texts stay in one place.
type Error struct {
	// Code is the wire <Code>.
	Code string
	// Message is the wire <Message>.
	Message string
	// Status is the HTTP status.
	Status int
	// Receiver marks a server-side fault (<Type>Receiver</Type>); AWS sends
	// it with the 5xx answers.
	Receiver bool
}

// Error returns the code and the message.
func (e *Error) Error() string { return faultText(e.Code, e.Message) }

// ErrorCode returns e.Code.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns e.Message.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus returns e.Status.
func (e *Error) HTTPStatus() int { return e.Status }

// SenderFault returns !e.Receiver.
func (e *Error) SenderFault() bool { return !e.Receiver }

// faultText is the Error() text of every fault: "Code: message", or the
// code alone when there is no message.
func faultText(code, message string) string {
	if message == "" {
		return code
	}
	return code + ": " + message
}

func sender(code string, status int, message string) *Error {
	return &Error{Code: code, Message: message, Status: status}
}

func receiver(code string, status int, message string) *Error {
	return &Error{Code: code, Message: message, Status: status, Receiver: true}
}

// MissingAction answers a request without an Action parameter (400).
func MissingAction() *Error {
	return sender("MissingAction", http.StatusBadRequest, "Missing Action")
}

// InvalidAction answers an Action this service does not have (400), as AWS
// words it.
func InvalidAction(action string) *Error {
	return sender("InvalidAction", http.StatusBadRequest,
		fmt.Sprintf("The action %s is not valid for this web service.", action))
}

// NotImplemented answers an ElastiCache action that this server does not
// implement yet (501, Receiver: the request is valid, the server lacks it).
func NotImplemented(action string) *Error {
	return receiver("NotImplemented", http.StatusNotImplemented,
		fmt.Sprintf("The action %s is not implemented yet.", action))
}

// MethodNotAllowed answers an HTTP method other than POST and GET (405).
// AWS has no documented answer; this one is an ordinary ErrorResponse so
// that every client can parse it.
func MethodNotAllowed(method string) *Error {
	return sender("MethodNotAllowed", http.StatusMethodNotAllowed,
		fmt.Sprintf("The HTTP method %s is not allowed; use POST or GET.", method))
}

// MissingParameter answers a request without a required parameter (400).
func MissingParameter(param string) *Error {
	return sender("MissingParameter", http.StatusBadRequest,
		fmt.Sprintf("The request must contain the parameter %s.", param))
}

// InvalidParameterValue answers a parameter with an unacceptable value
// (400). It returns the modeled InvalidParameterValueException, so that the
// code has one Go type whether the service or the handler raises it, and
// the SDKs map it to their modeled class.
func InvalidParameterValue(message string) *InvalidParameterValueException {
	return &InvalidParameterValueException{Message: message}
}

// InvalidParameterCombination answers parameters that cannot be used
// together (400), as the modeled InvalidParameterCombinationException.
func InvalidParameterCombination(message string) *InvalidParameterCombinationException {
	return &InvalidParameterCombinationException{Message: message}
}

// UnsupportedVersion answers a Version other than APIVersion (400,
// InvalidParameterValue).
func UnsupportedVersion(version string) *InvalidParameterValueException {
	return InvalidParameterValue(fmt.Sprintf("Unsupported API version %s.", version))
}

// MalformedQueryString answers a form that cannot be percent-decoded. AWS
// answers it with 404, and so do we.
func MalformedQueryString(message string) *Error {
	return sender("MalformedQueryString", http.StatusNotFound, message)
}

// RequestEntityTooLarge answers a body longer than limit bytes (413).
func RequestEntityTooLarge(limit int64) *Error {
	return sender("RequestEntityTooLarge", http.StatusRequestEntityTooLarge,
		fmt.Sprintf("Request body must not exceed %d bytes.", limit))
}

// Throttling answers a request refused by rate limiting (400). Clients
// retry it with backoff.
func Throttling() *Error {
	return sender("Throttling", http.StatusBadRequest, "Rate exceeded")
}

// ServiceUnavailable answers a retryable server-side failure, such as the
// store being unreachable or timing out (503, Receiver). Clients retry it.
func ServiceUnavailable() *Error {
	return receiver("ServiceUnavailable", http.StatusServiceUnavailable,
		"Service is temporarily unavailable. Try again later.")
}

// InternalFailure answers any other server-side failure (500, Receiver).
// The message is generic on purpose: details go to the log, never to the
// client.
func InternalFailure() *Error {
	return receiver("InternalFailure", http.StatusInternalServerError,
		"The request processing has failed because of an unknown error, exception or failure.")
}

// MissingAuthenticationToken answers a request without credentials when
// signatures are verified (403).
func MissingAuthenticationToken() *Error {
	return sender("MissingAuthenticationToken", http.StatusForbidden,
		"Request is missing Authentication Token")
}

// InvalidClientTokenID answers an unknown access key or any session token
// (403). The wire code is InvalidClientTokenId, AWS's spelling.
func InvalidClientTokenID() *Error {
	return sender("InvalidClientTokenId", http.StatusForbidden,
		"The security token included in the request is invalid.")
}

// SignatureDoesNotMatch answers a signature that does not verify, or a
// credential scope this server does not serve (403).
func SignatureDoesNotMatch(message string) *Error {
	return sender("SignatureDoesNotMatch", http.StatusForbidden, message)
}

// IncompleteSignature answers a malformed Authorization header or signed
// query (400).
func IncompleteSignature(message string) *Error {
	return sender("IncompleteSignature", http.StatusBadRequest, message)
}

// RequestExpired answers a request signed too far from the server's clock
// (400).
func RequestExpired(message string) *Error {
	return sender("RequestExpired", http.StatusBadRequest, message)
}
