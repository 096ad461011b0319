package main

import (
	"context"
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

// stops turns the first SIGTERM or SIGINT into the end of ctx, and a later
// one into hurry: a reporter waiting for drain_on_stop to pass deregisters
// at once. stop ends the forwarding.
func stops() (ctx context.Context, hurry <-chan struct{}, stop func()) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	ctx, cancel := context.WithCancel(context.Background())
	h := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sig:
			close(h)
		case <-done:
		}
	}()
	return ctx, h, func() { signal.Stop(sig); close(done); cancel() }
}
