// Package journal keeps the last N requests one server process answered —
// action, caller, parameters with secrets removed, status and error code —
// so that a test can assert what its code called. It imports the standard
// library and api (the Exchange it records).
package journal
