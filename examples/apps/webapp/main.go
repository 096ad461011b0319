// Command webapp is the web app of the "web app + cache" example: every GET /
// increments a counter in the cache cluster and answers
// "<h1>Current count: N</h1>". It reaches the cache only through its own
// host's HAProxy port for the cache cluster (the writer of that host keeps
// it pointing at the live Redis nodes). GET /health pings Redis the same way;
// the host's reporter checks it.
//
//	webapp -listen 127.0.0.21:8000 -cache 127.0.0.21:9999 -name app01:8000
package main

import (
	"fmt"
	"net/http"

	"lighthouse/examples/apps/internal/app"
	"lighthouse/examples/apps/internal/resp"
)

// counterKey is the original's Redis key.
const counterKey = "webapp:counter"

func main() {
	app.RunWithCache("webapp", handler)
}

func handler(redis resp.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		n, err := redis.Int(r.Context(), "INCR", counterKey)
		if err != nil {
			app.Logger.Warn("cache unavailable", "err", err)
			http.Error(w, "cache unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<h1>Current count: %d</h1>\n", n)
	})
	mux.HandleFunc("GET /health", app.Health(app.Dependency{What: "cache", Check: redis.Ping}))
	return mux
}
