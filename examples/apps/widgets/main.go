// Command widgets is the widgets API of the "API meta cluster with proxies"
// example, served under /api/widgets on the client's stuff_api port:
//
//	GET  /api/widgets               {"widgets": {"foo": 1}}   (the Redis hash "widgets")
//	POST /api/widgets  widget=foo   {"success": true}         (HINCRBY widgets foo 1)
//
// It reaches the cache cluster only through its own host's HAProxy port.
// GET /health pings Redis that way.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"lighthouse/examples/apps/internal/app"
	"lighthouse/examples/apps/internal/resp"
)

const hashKey = "widgets"

func main() {
	app.RunWithCache("widgets", handler)
}

func handler(redis resp.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/widgets", func(w http.ResponseWriter, r *http.Request) {
		reply, err := redis.Do(r.Context(), "HGETALL", hashKey)
		if err != nil {
			app.Fail(w, http.StatusServiceUnavailable, err)
			return
		}
		flat, err := reply.Strings()
		if err != nil || len(flat)%2 != 0 {
			app.Fail(w, http.StatusBadGateway, fmt.Errorf("HGETALL: unexpected reply: %v", err))
			return
		}
		widgets := map[string]int64{}
		for i := 0; i < len(flat); i += 2 {
			n, err := strconv.ParseInt(flat[i+1], 10, 64)
			if err != nil {
				app.Fail(w, http.StatusBadGateway, fmt.Errorf("widget %q: count %q", flat[i], flat[i+1]))
				return
			}
			widgets[flat[i]] = n
		}
		app.JSON(w, http.StatusOK, map[string]any{"widgets": widgets})
	})
	mux.HandleFunc("POST /api/widgets", func(w http.ResponseWriter, r *http.Request) {
		widget := r.PostFormValue("widget")
		if widget == "" {
			app.Fail(w, http.StatusBadRequest, errors.New(`the form parameter "widget" is required`))
			return
		}
		if _, err := redis.Int(r.Context(), "HINCRBY", hashKey, widget, "1"); err != nil {
			app.Fail(w, http.StatusServiceUnavailable, err)
			return
		}
		app.JSON(w, http.StatusOK, map[string]any{"success": true})
	})
	mux.HandleFunc("GET /health", app.Health(app.Dependency{What: "cache", Check: redis.Ping}))
	return mux
}
