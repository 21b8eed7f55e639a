package e2e

import (
	"path/filepath"
	"testing"
)

// jsSigV4SuiteFile is the sigv4 suite, relative to this package's directory.
var jsSigV4SuiteFile = filepath.Join("js", "sigv4.test.mjs")

// TestJavaScriptSDKSigV4 runs e2e/js/sigv4.test.mjs: the AWS SDK for
// JavaScript v3 against the real binary started with --auth sigv4: every
// operation with the right keys, SignatureDoesNotMatch for a wrong secret
// or a region not served, InvalidClientTokenId for an unknown key or a
// session token. Like TestJavaScriptSDK it never skips.
func TestJavaScriptSDKSigV4(t *testing.T) {
	t.Parallel()
	runJSSuite(t, "JavaScript SDK sigv4 suite", jsSigV4SuiteFile)
}
