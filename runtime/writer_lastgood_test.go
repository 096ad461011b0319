package runtime_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lighthouse/internal/testenv"
)

// A writer restarted while a cluster file is broken runs that file's last
// good version, kept on disk, and says so: the cluster keeps serving.
// Before, the last good version lived only in memory and the restarted
// writer dropped the cluster.
func TestWriterRestartKeepsLastGoodConfig(t *testing.T) {
	testenv.ForEachHAProxy(t, func(t *testing.T, r testenv.HAProxyRelease) {
		e := startWriter(t, r)
		b1 := startBackend(t, "app1", "127.0.0.11")
		e.register(e.conn, "web", b1)
		testenv.WaitFor(t, 20*time.Second, "app1 serves", func() bool { return sameSet(seen(e.webPort, 3), "app1") })

		web := filepath.Join(e.dir, "config/clusters/web.yaml")
		good, err := os.ReadFile(web)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, web, strings.Replace(string(good), "port:", "port: eighty\n  oldport:", 1))
		testenv.WaitFor(t, 10*time.Second, "the broken edit is reported", func() bool {
			return strings.Contains(e.logs.String(), "keeping the last good version")
		})

		e.stop()
		e.run()
		testenv.WaitFor(t, 10*time.Second, "the restarted writer starts from the kept files", func() bool {
			return strings.Contains(e.logs.String(), "starting with the last good config files kept from before")
		})
		time.Sleep(time.Second) // a dropped cluster would be gone by now
		if got := seen(e.webPort, 6); !sameSet(got, "app1") {
			t.Fatalf("after a restart with web.yaml broken, web's port answers %v", got)
		}
		if file, _ := os.ReadFile(e.local.Process.ConfigFile); !strings.Contains(string(file), "backend web") {
			t.Fatalf("the config file lost backend web:\n%s", file)
		}
	})
}
