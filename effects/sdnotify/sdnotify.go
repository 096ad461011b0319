// Package sdnotify tells systemd about a service's state (sd_notify(3)):
// READY=1 once it has started, STOPPING=1 when it stops. It is a few lines
// of our own rather than a library: one datagram to $NOTIFY_SOCKET is the
// whole protocol we need.
package sdnotify

import (
	"fmt"
	"net"
	"os"
)

// Notify sends state (e.g. "READY=1") to systemd. Without $NOTIFY_SOCKET
// (not run by systemd, or not Type=notify) it does nothing and returns
// false.
func Notify(state string) (bool, error) {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return false, nil
	}
	if name[0] == '@' { // an abstract socket
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("notify systemd: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("notify systemd: %w", err)
	}
	return true, nil
}
