package runtime_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"lighthouse/internal/testenv"
)

// overTLS are the writer and reporter integration tests that run again
// over TLS.
var overTLS = []string{
	"TestReporterRiseFallExpiryStop", "TestReporterTCPAndRedis", "TestReporterFollowsConfig",
	"TestReporterSurvivesZooKeeperRestart", "TestReporterRoundsNeverOverlap",
	"TestReporterRestoresDeletedRegistration", "TestReporterRestoresOverwrittenRegistration", "TestReporterRecreatedRegistration",
	"TestWriterEndToEnd", "TestWriterCookieServer", "TestWriterNoFailedRequestsUnderChurn",
	"TestSecureRegistration", "TestSecureReregistrationAfterExpiry", "TestSecureWriterReadOnly",
}

// Everything the writer and reporter integration tests prove holds over
// TLS: they run again, in a child test process, against ZooKeeper servers
// that serve the daemons on secureClientPort only, with mutual TLS
// (LIGHTHOUSE_ZK_TLS=need; see testenv.WithTLS).
func TestIntegrationOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the integration tests again")
	}
	if testenv.TLSFromEnv() != "" {
		t.Skip("this run is over TLS already")
	}
	testenv.Require(t, "zookeeper")
	cmd := exec.Command(os.Args[0], "-test.run", "^("+strings.Join(overTLS, "|")+")$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "LIGHTHOUSE_ZK_TLS=need")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("over TLS: %v\n%s", err, failures(string(out)))
	}
	for _, name := range overTLS {
		if !regexp.MustCompile(`(?m)^--- PASS: ` + name + ` `).MatchString(string(out)) {
			t.Errorf("%s did not pass over TLS", name)
		}
	}
}

// failures keeps the lines of a verbose test run that tell what failed.
func failures(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--- FAIL") || strings.Contains(l, "_test.go:") && !strings.Contains(l, "level=") || strings.HasPrefix(l, "panic") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
