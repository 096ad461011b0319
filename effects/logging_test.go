package effects

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"lighthouse/model"
)

func TestNewHandlerFormatsAndLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newHandler(&buf, model.Logging{Level: "warn", Format: "text"}, "reporter"))
	log.Info("hidden")
	log.Warn("shown", "port", 8000)
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, `level=WARN msg=shown program=reporter port=8000`) {
		t.Errorf("text: %q", got)
	}

	buf.Reset()
	log = slog.New(newHandler(&buf, model.Logging{Level: "debug", Format: "json"}, "writer"))
	log.Debug("hello")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("json: %v: %q", err, buf.String())
	}
	if m["program"] != "writer" || m["msg"] != "hello" || m["level"] != "DEBUG" {
		t.Errorf("json: %v", m)
	}
}

func TestNewLoggerHonoursLevel(t *testing.T) {
	l := NewLogger(model.Logging{Level: "error", Format: "text", Stream: "stderr"}, "reporter")
	if l.Enabled(t.Context(), slog.LevelWarn) || !l.Enabled(t.Context(), slog.LevelError) {
		t.Error("level error: warn enabled or error disabled")
	}
}

func TestLiveLoggerApply(t *testing.T) {
	var out, errs bytes.Buffer
	ll := NewLiveLoggerTo(model.Logging{Level: "info", Format: "text", Stream: "stderr"}, "reporter", &out, &errs)
	derived := ll.Logger().With("service", "web")
	derived.Debug("not yet")
	derived.Info("one")
	ll.Apply(model.Logging{Level: "debug", Format: "json", Stream: "stdout"})
	derived.Debug("two")
	if got := errs.String(); strings.Contains(got, "not yet") || !strings.Contains(got, "msg=one program=reporter service=web") {
		t.Errorf("stderr: %q", got)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("stdout is not one JSON line: %v: %q", err, out.String())
	}
	if m["msg"] != "two" || m["service"] != "web" || m["program"] != "reporter" {
		t.Errorf("stdout: %v", m)
	}
	// Unchanged config: same handler, nothing swapped.
	before := ll.root.Load()
	ll.Apply(model.Logging{Level: "debug", Format: "json", Stream: "stdout"})
	if ll.root.Load() != before {
		t.Error("an unchanged config swapped the handler")
	}
}
