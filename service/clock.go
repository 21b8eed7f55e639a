package service

import "time"

// Clock tells the service what time it is. Tests inject a controllable
// clock so that transition delays, event retention and marker expiry are
// exact instead of racing real time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
