// Command partner is the "3rd-party partner" of the "API meta cluster with
// proxies" example: a token API that whitelists IP addresses in real life.
// It runs no Lighthouse at all.
//
//	GET /token   {"token": "<random UUID>"}
//	GET /status  OK
//
// It records the remote address of every request: a log line on stderr and,
// with -record FILE, a line "IP METHOD PATH" appended to FILE, so that one can
// check that only the proxy hosts ever talk to it.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"

	"lighthouse/examples/apps/internal/app"
)

func main() {
	listen := flag.String("listen", "127.0.0.40:8088", "address to serve on")
	record := flag.String("record", "", "append the remote IP, method and path of every request to this file")
	flag.Parse()
	rec := &recorder{}
	if *record != "" {
		f, err := os.OpenFile(*record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			app.Logger.Error("cannot open the record file", "err", err)
			os.Exit(1)
		}
		defer f.Close()
		rec.f = f
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", func(w http.ResponseWriter, r *http.Request) {
		app.JSON(w, http.StatusOK, map[string]string{"token": uuid4()})
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "OK")
	})
	app.Run("partner", "partner", *listen, rec.wrap(mux))
}

// recorder appends one line per request to a file.
type recorder struct {
	mu sync.Mutex
	f  *os.File
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			ip = r.RemoteAddr
		}
		app.Logger.Info("partner request", "from", ip, "method", r.Method, "path", r.URL.Path)
		if rec.f != nil {
			rec.mu.Lock()
			fmt.Fprintf(rec.f, "%s %s %s\n", ip, r.Method, r.URL.Path)
			rec.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// uuid4 returns a random (version 4) UUID.
func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
