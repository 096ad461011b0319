// Command sprockets is the sprockets API of the "API meta cluster with
// proxies" example, served under /api/sprockets on the client's stuff_api
// port:
//
//	GET  /api/sprockets                {"token": "...", "sprockets": ["bar"]}  (the Redis set "sprockets")
//	POST /api/sprockets  sprocket=bar  {"success": true, "token": "..."}        (SADD sprockets bar)
//
// Every answer carries a token fetched from the partner's token API, which
// this app reaches only through its own host's HAProxy port for the proxy
// cluster: the proxy hosts are the only ones that talk to the partner. The
// cache cluster is reached the same way. GET /health needs both: Redis
// answers PING and the partner's /status answers 200.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"lighthouse/examples/apps/internal/app"
	"lighthouse/examples/apps/internal/resp"
)

const setKey = "sprockets"

func main() {
	partner := flag.String("partner", "127.0.0.1:7777", "the partner's token API: this host's HAProxy port for the proxy cluster")
	app.RunWithCache("sprockets", func(cache resp.Client) http.Handler {
		s := &server{redis: cache, partner: "http://" + *partner, http: &http.Client{Timeout: 3 * time.Second}}
		return s.handler()
	})
}

type server struct {
	redis   resp.Client
	partner string // base URL
	http    *http.Client
}

// token fetches a token from the partner: GET /token answers {"token": "..."}.
func (s *server) token(ctx context.Context) (string, error) {
	body, err := s.get(ctx, "/token")
	if err != nil {
		return "", err
	}
	var t struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.Token == "" {
		return "", fmt.Errorf("partner /token: no token in %q", body)
	}
	return t.Token, nil
}

func (s *server) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.partner+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("partner %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("partner %s: %s", path, res.Status)
	}
	return body, nil
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sprockets", func(w http.ResponseWriter, r *http.Request) {
		reply, err := s.redis.Do(r.Context(), "SMEMBERS", setKey)
		if err != nil {
			app.Fail(w, http.StatusServiceUnavailable, err)
			return
		}
		members, err := reply.Strings()
		if err != nil {
			app.Fail(w, http.StatusBadGateway, fmt.Errorf("SMEMBERS: %w", err))
			return
		}
		slices.Sort(members) // a set has no order; answer a stable one
		tok, err := s.token(r.Context())
		if err != nil {
			app.Fail(w, http.StatusBadGateway, err)
			return
		}
		app.JSON(w, http.StatusOK, struct {
			Token     string   `json:"token"`
			Sprockets []string `json:"sprockets"`
		}{tok, members})
	})
	mux.HandleFunc("POST /api/sprockets", func(w http.ResponseWriter, r *http.Request) {
		sprocket := r.PostFormValue("sprocket")
		if sprocket == "" {
			app.Fail(w, http.StatusBadRequest, errors.New(`the form parameter "sprocket" is required`))
			return
		}
		if _, err := s.redis.Int(r.Context(), "SADD", setKey, sprocket); err != nil {
			app.Fail(w, http.StatusServiceUnavailable, err)
			return
		}
		tok, err := s.token(r.Context())
		if err != nil {
			app.Fail(w, http.StatusBadGateway, err)
			return
		}
		app.JSON(w, http.StatusOK, struct {
			Success bool   `json:"success"`
			Token   string `json:"token"`
		}{true, tok})
	})
	mux.HandleFunc("GET /health", app.Health(
		app.Dependency{What: "cache", Check: s.redis.Ping},
		app.Dependency{What: "partner", Check: func(ctx context.Context) error {
			_, err := s.get(ctx, "/status")
			return err
		}},
	))
	return mux
}
