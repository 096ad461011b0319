package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"lighthouse/model"
)

// The http check: a request (method, default GET, with no body) for uri on
// a fresh connection; it passes on a 2xx status. Redirects are not followed
// (3xx fails, as in the original), and proxy settings of the environment
// (HTTP_PROXY) are ignored: the check talks to the service directly.
//
// With https: true the check speaks TLS but does not verify the server's
// certificate. Checks connect to the service's `host` (127.0.0.1 unless
// set), an address certificates rarely name, and send nothing secret: the
// check asks whether the service is healthy, not who it is. Kubernetes'
// HTTPS probes make the same choice.
func init() { Register("http", CheckerFunc(checkHTTP)) }

var httpClient = &http.Client{
	Transport: &http.Transport{
		Proxy:              nil,
		DisableKeepAlives:  true,
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{InsecureSkipVerify: true},
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func checkHTTP(ctx context.Context, addr string, c model.Check) error {
	scheme := "http"
	if c.HTTPS {
		scheme = "https"
	}
	method := c.Method
	if method == "" {
		method = http.MethodGet
	}
	url := scheme + "://" + addr + c.URI
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	req.Header.Set("User-Agent", "lighthouse-reporter")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	// Read a little of the body so that the server sees a complete exchange.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s: status %s", method, url, resp.Status)
	}
	return nil
}
