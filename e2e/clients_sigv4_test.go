package e2e

import "testing"

// TestBoto3AndCLISigV4 runs e2e/clients/test_sigv4.py: boto3 and the AWS
// CLI against the real binary started with --auth sigv4, --config (two
// accounts with a key each) and --regions: every operation with the right
// keys, SignatureDoesNotMatch for a wrong secret, InvalidClientTokenId for
// an unknown key or a session token, and botocore's presigned URLs until
// they expire. Like TestBoto3AndCLI it never skips, not even under -short.
func TestBoto3AndCLISigV4(t *testing.T) {
	t.Parallel()
	runClientsScript(t, "test_sigv4.py", "boto3/AWS CLI sigv4 suite")
}
