// Package logwriter buffers a log's output so that a request does not pay a
// write(2) for its access-log line: lines collect in memory and go out every
// few milliseconds or when a buffer fills, while Warn and above (through
// Handler) and Close go out at once. slog's own text and JSON handlers
// format the lines into a Writer. It imports the standard library only.
package logwriter
