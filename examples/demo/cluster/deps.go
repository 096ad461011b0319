package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Paths of the ZooKeeper server jars installed by Debian's zookeeper package
// (libzookeeper-java, libslf4j-java). zookeeper.jar's manifest lists its
// other dependencies.
const (
	ZooKeeperJar = "/usr/share/java/zookeeper.jar"
	SLF4JSimple  = "/usr/share/java/slf4j-simple.jar"
)

// Requirement is a program or file the examples need, and the Debian
// package that provides it.
type Requirement struct {
	What    string
	Package string
}

// Missing lists what the examples need and is not installed: haproxy,
// redis-server, java and ZooKeeper's jars.
func Missing() []Requirement {
	var out []Requirement
	for _, r := range []Requirement{{"haproxy", "haproxy"}, {"redis-server", "redis-server"}, {"java", "zookeeper"}} {
		if LookPath(r.What) == "" {
			out = append(out, r)
		}
	}
	for _, f := range []string{ZooKeeperJar, SLF4JSimple} {
		if _, err := os.Stat(f); err != nil {
			out = append(out, Requirement{f, "zookeeper"})
		}
	}
	return out
}

// Packages returns the distinct Debian packages of some requirements.
func Packages(rs []Requirement) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.Package] {
			seen[r.Package] = true
			out = append(out, r.Package)
		}
	}
	return out
}

// LookPath finds a program on PATH or, failing that, in the sbin
// directories (Debian leaves them off a normal user's PATH, and haproxy
// lives in /usr/sbin). It returns "" when the program is not found.
func LookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// FindRoot returns the repository root: the nearest directory at or above
// the working directory whose go.mod declares module lighthouse.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isLighthouseModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the lighthouse repository (no go.mod declaring module lighthouse above the working directory)")
		}
		dir = parent
	}
}

func isLighthouseModule(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) == 2 && fields[0] == "module" {
			return fields[1] == "lighthouse"
		}
	}
	return false
}

// Programs are the packages Build compiles: the lighthouse binary and the
// example apps.
var Programs = []string{
	"./cmd/lighthouse",
	"./examples/apps/webapp",
	"./examples/apps/widgets",
	"./examples/apps/sprockets",
	"./examples/apps/partner",
}

// Build compiles Programs into dir with one `go build`.
func Build(ctx context.Context, root, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	gobin := LookPath("go")
	if gobin == "" {
		return errors.New("build: the go command is not on PATH")
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, Programs...)
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build: go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
