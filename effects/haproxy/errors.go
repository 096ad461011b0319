package haproxy

import (
	"errors"
	"fmt"
	"strings"

	"lighthouse/model/haproxyapi"
)

// refusalErrors are the sentinels of HAProxy's refusals, by what the
// release's data says a refusal means.
var refusalErrors = map[haproxyapi.Refusal]error{
	haproxyapi.UnknownCommand:       errors.New("unknown command"),
	haproxyapi.PermissionDenied:     errors.New("permission denied"),
	haproxyapi.NoSuchBackend:        errors.New("no such backend"),
	haproxyapi.NoSuchServer:         errors.New("no such server"),
	haproxyapi.ServerHasConnections: errors.New("server still has connections"),
	haproxyapi.NotInMaintenance:     errors.New("server is not in maintenance"),
	haproxyapi.NotDynamic:           errors.New("not possible with a dynamic server"),
	haproxyapi.AlreadyExists:        errors.New("server already exists"),
}

// Sentinels for HAProxy's known refusals (haproxyapi.Refusal), one for
// each: classify maps an answer to its sentinel. Test with errors.Is: a
// refusal comes wrapped in a *CommandError that also carries the command
// and HAProxy's exact answer.
var (
	// ErrUnknownCommand: HAProxy does not know the command ("Unknown
	// command, but maybe one of the following ones is a better match: ...").
	ErrUnknownCommand = refusalErrors[haproxyapi.UnknownCommand]
	// ErrPermissionDenied: the socket's level (user, operator) is too low
	// for the command; the writer needs `level admin`.
	ErrPermissionDenied = refusalErrors[haproxyapi.PermissionDenied]
	// ErrNoSuchBackend: no backend of that name ("No such backend.",
	// "Can't find backend.").
	ErrNoSuchBackend = refusalErrors[haproxyapi.NoSuchBackend]
	// ErrNoSuchServer: the backend has no server of that name.
	ErrNoSuchServer = refusalErrors[haproxyapi.NoSuchServer]
	// ErrServerHasConnections: `del server` refused because requests are
	// still in flight on the server; retry once they have finished.
	ErrServerHasConnections = refusalErrors[haproxyapi.ServerHasConnections]
	// ErrNotInMaintenance: `del server` refused because the server is not
	// in maintenance (set it to maint first).
	ErrNotInMaintenance = refusalErrors[haproxyapi.NotInMaintenance]
	// ErrNotDynamic: HAProxy cannot do this with a dynamic server: the
	// backend's balance algorithm is not dynamic (static-rr, or a map-based
	// hash), or an option is not accepted for dynamic servers (cookie
	// before 3.0, redir, ...) or not known at all. The change needs a
	// config file line and a reload instead.
	ErrNotDynamic = refusalErrors[haproxyapi.NotDynamic]
	// ErrAlreadyExists: `add server` for a name the backend already has.
	ErrAlreadyExists = refusalErrors[haproxyapi.AlreadyExists]
)

// classify maps an answer to its sentinel, or nil when the answer is not a
// refusal the release (a) is known to give.
func classify(a haproxyapi.Answers, answer string) error {
	return refusalErrors[a.Refusal(answer)]
}

// CommandError is a command HAProxy answered with something other than
// success. Unwrap gives the sentinel the answer maps to, if any, so
// errors.Is(err, ErrNoSuchServer) works on it.
type CommandError struct {
	Socket  string // the socket the command was sent to
	Command string // the command line, without the newline
	Answer  string // HAProxy's answer, surrounding whitespace trimmed
	Err     error  // the sentinel for a known answer; nil for others
}

func (e *CommandError) Error() string {
	first, _, _ := strings.Cut(e.Answer, "\n")
	if first == "" {
		first = "(empty answer)"
	}
	return fmt.Sprintf("haproxy %s: %s: %s", e.Socket, e.Command, first)
}

// Unwrap returns the sentinel of a known answer, or nil.
func (e *CommandError) Unwrap() error { return e.Err }

// Sentinels for the conditions of this package: a socket nobody listens
// on, an argument refused before anything is sent, and the process
// conditions. Test with errors.Is.
var (
	// ErrSocketUnavailable: nothing listens on the socket (connection
	// refused, or no socket file): HAProxy is not running.
	ErrSocketUnavailable = errors.New("socket unavailable (is HAProxy running?)")
	// ErrInvalidArgument: an argument was refused before anything was sent
	// (a name or address with whitespace, control characters or ";", a
	// port outside 1..65535, a weight outside 0..256, an unknown state).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrNotRunning: the pid file names no live haproxy process.
	ErrNotRunning = errors.New("haproxy is not running")
	// ErrAlreadyRunning: Start found a live master on the pid file.
	ErrAlreadyRunning = errors.New("haproxy is already running")
	// ErrReloadFailed: the master reports the reload as failed (the new
	// config did not load); the previous worker keeps serving the old one.
	ErrReloadFailed = errors.New("haproxy reload failed")
)

// ValidationError is `haproxy -c` rejecting a config file (exit status 1).
// Output is everything HAProxy printed, alerts included.
type ValidationError struct {
	Path   string // the file that was checked
	Output string
}

func (e *ValidationError) Error() string {
	alerts := e.Alerts()
	// HAProxy ends with summaries ("Error(s) found in configuration file :
	// PATH", "Fatal errors found in configuration."): leave them to Output
	// when there is something more specific.
	var specific []string
	for _, a := range alerts {
		if !haproxyapi.SummaryAlert(a) {
			specific = append(specific, a)
		}
	}
	if len(specific) > 0 {
		alerts = specific
	}
	msg := strings.Join(alerts, "; ")
	if msg == "" {
		msg = strings.TrimSpace(e.Output)
	}
	return fmt.Sprintf("haproxy -c rejected %s: %s", e.Path, msg)
}

// Alerts returns the [ALERT] lines of Output without their prefix, e.g.
// "config : parsing [/etc/haproxy/haproxy.cfg:29] : unknown keyword 'bogus'
// in 'backend' section".
func (e *ValidationError) Alerts() []string {
	var out []string
	for _, line := range strings.Split(e.Output, "\n") {
		rest, ok := strings.CutPrefix(line, "[ALERT]")
		if !ok {
			continue
		}
		// "[ALERT]    (5309) : config : ..." → "config : ..."
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "(") {
			if _, after, ok := strings.Cut(rest, ") :"); ok {
				rest = strings.TrimSpace(after)
			}
		}
		out = append(out, rest)
	}
	return out
}
