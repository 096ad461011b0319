package main

import (
	"os"
	"os/signal"
	"syscall"
)

// hangups turns SIGHUP into a "re-read everything" channel for the long
// running commands; a SIGHUP that arrives while one is pending is merged
// with it. stop ends the forwarding.
func hangups() (refresh <-chan struct{}, stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				select {
				case out <- struct{}{}:
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() { signal.Stop(hup); close(done) }
}
