package effects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"lighthouse/model"
)

// HAProxyVersion runs `binary -v` and parses the version it prints (the
// parser is model.ParseVersion: "HAProxy version 2.6.12-1+deb12u4 ..." is
// 2.6.12). binary is a path or a name looked up in PATH, usually "haproxy".
// Errors name the command; a missing binary wraps exec.ErrNotFound.
func HAProxyVersion(ctx context.Context, binary string) (model.Version, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, "-v")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" && !errors.Is(err, exec.ErrNotFound) {
			line, _, _ := strings.Cut(msg, "\n")
			return model.Version{}, fmt.Errorf("detect HAProxy version: %s -v: %w: %s", binary, err, line)
		}
		return model.Version{}, fmt.Errorf("detect HAProxy version: %s -v: %w", binary, err)
	}
	v, err := model.ParseVersion(stdout.String())
	if err != nil {
		return model.Version{}, fmt.Errorf("detect HAProxy version: %s -v: %w", binary, err)
	}
	return v, nil
}
