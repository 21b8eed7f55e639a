package e2e

import "testing"

// TestBoto3AndCLIFaults runs e2e/clients/test_faults.py: boto3 (standard
// and legacy retry modes) and the AWS CLI against the real binary started
// with --admin --admin-token, with fault rules added through the admin API.
// Their retryers must see and retry injected Throttling, ServiceUnavailable
// and InternalFailure answers, give up after their attempts, wait out a
// delay, and the request journal must agree with what each client reports.
// Like the other client suites it never skips.
func TestBoto3AndCLIFaults(t *testing.T) {
	t.Parallel()
	runClientsScript(t, "test_faults.py", "boto3/AWS CLI fault injection suite")
}
