package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
)

func TestEveryModelCheckTypeHasAChecker(t *testing.T) {
	if diff := cmp.Diff(model.CheckTypes(), Types()); diff != "" {
		t.Errorf("check types of model (-) and of probe (+):\n%s", diff)
	}
}

func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return h, port
}

// probe runs a check against addr and returns its error and duration.
func probe(t *testing.T, addr string, c model.Check) (error, time.Duration) {
	t.Helper()
	h, p := hostPort(t, addr)
	start := time.Now()
	err := Prober{}.Probe(context.Background(), h, p, c)
	return err, time.Since(start)
}

func TestHTTPCheck(t *testing.T) {
	var lastMethod, lastHost string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/method", func(w http.ResponseWriter, r *http.Request) {
		lastMethod, lastHost = r.Method, r.Host
		w.WriteHeader(200)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux) // self-signed: passes, not verified
	defer tlsSrv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tlsAddr := strings.TrimPrefix(tlsSrv.URL, "https://")

	cases := []struct {
		name string
		addr string
		c    model.Check
		fail string // "" to pass, else part of the error
	}{
		{"2xx passes", addr, model.Check{Type: "http", URI: "/ok", Method: "GET"}, ""},
		{"method", addr, model.Check{Type: "http", URI: "/method", Method: "HEAD"}, ""},
		{"5xx fails", addr, model.Check{Type: "http", URI: "/down", Method: "GET"}, "status 503"},
		{"3xx fails, not followed", addr, model.Check{Type: "http", URI: "/moved", Method: "GET"}, "status 302"},
		{"https, self-signed", tlsAddr, model.Check{Type: "http", URI: "/ok", HTTPS: true}, ""},
		{"plain http to a TLS port", tlsAddr, model.Check{Type: "http", URI: "/ok"}, "status 400"},
		{"timeout", addr, model.Check{Type: "http", URI: "/slow", Timeout: 150 * time.Millisecond}, "timed out after 150ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, took := probe(t, c.addr, c.c)
			switch {
			case c.fail == "" && err != nil:
				t.Errorf("failed: %v", err)
			case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
				t.Errorf("error %v, want one containing %q", err, c.fail)
			}
			if took > 2*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	if lastMethod != "HEAD" || lastHost != addr {
		t.Errorf("last request: %s Host %s", lastMethod, lastHost)
	}

	// A stopped server fails, naming the check and the address.
	srv.Close()
	err, _ := probe(t, addr, model.Check{Type: "http", URI: "/ok"})
	if err == nil || !strings.Contains(err.Error(), "http check of "+addr) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("stopped server: %v", err)
	}
}

// lineServer accepts connections and answers each with reply(request).
func lineServer(t *testing.T, reply func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				reply(c)
			}()
		}
	}()
	return l.Addr().String()
}

// answer reads the query (up to len(q) bytes) and writes out.
func answer(q, out string, thenWait time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, len(q))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _ := c.Read(buf)
		if string(buf[:n]) != q {
			c.Write([]byte("bad query " + string(buf[:n]) + "\n"))
			return
		}
		c.Write([]byte(out))
		time.Sleep(thenWait)
	}
}

func TestTCPCheck(t *testing.T) {
	tcp := func(q, r string) model.Check {
		return model.Check{Type: "tcp", Query: q, Response: r, Timeout: 300 * time.Millisecond}
	}
	cases := []struct {
		name   string
		server func(net.Conn)
		c      model.Check
		fail   string
	}{
		{"connect only", func(net.Conn) {}, tcp("", ""), ""},
		{"line", answer("ping", "pong\nrest", time.Second), tcp("ping", "pong"), ""},
		{"CRLF line, response without CR", answer("PING\r\n", "+PONG\r\n", time.Second), tcp("PING\r\n", "+PONG"), ""},
		{"CRLF line, response with CR (original)", answer("PING\r\n", "+PONG\r\n", time.Second), tcp("PING\r\n", "+PONG\r"), ""},
		{"no line break, then close (ruok)", answer("ruok", "imok", 0), tcp("ruok", "imok"), ""},
		{"wrong response", answer("ping", "pang\n", 0), tcp("ping", "pong"), `is "pang", expected "pong"`},
		{"close without a reply", answer("ping", "", 0), tcp("ping", "pong"), `is "", expected "pong"`},
		{"no line break, connection kept", answer("ping", "pong", 5*time.Second), tcp("ping", "pong"), "timed out after 300ms"},
		{"silent", answer("ping", "", 5*time.Second), tcp("ping", "pong"), "timed out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := lineServer(t, c.server)
			err, took := probe(t, addr, c.c)
			switch {
			case c.fail == "" && err != nil:
				t.Errorf("failed: %v", err)
			case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
				t.Errorf("error %v, want one containing %q", err, c.fail)
			}
			if took > time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	// Nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if err, _ := probe(t, addr, tcp("", "")); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("closed port: %v", err)
	}
}

func TestRedisReplies(t *testing.T) {
	redis := model.Check{Type: "redis", Timeout: 300 * time.Millisecond}
	cases := []struct {
		name, reply, fail string
	}{
		{"pong", "+PONG\r\n", ""},
		{"auth required", "-NOAUTH Authentication required.\r\n", "error: NOAUTH Authentication required."},
		{"bulk", "$4\r\nPONG\r\n", `answered "$PONG", expected +PONG`},
		{"array", "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "answered an array of 2"},
		{"not RESP", "HTTP/1.0 400 Bad Request\r\n", "not a RESP reply"},
		{"no reply", "", "EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := lineServer(t, answer(redisPing, c.reply, 0))
			err, _ := probe(t, addr, redis)
			switch {
			case c.fail == "" && err != nil:
				t.Errorf("failed: %v", err)
			case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
				t.Errorf("error %v, want one containing %q", err, c.fail)
			}
		})
	}
}

func TestProbeUnknownType(t *testing.T) {
	err := Prober{}.Probe(context.Background(), "127.0.0.1", 1, model.Check{Type: "smtp"})
	if err == nil || !strings.Contains(err.Error(), "unknown check type") {
		t.Errorf("got %v", err)
	}
}

func TestProbeHonoursCancel(t *testing.T) {
	addr := lineServer(t, answer("ping", "", 5*time.Second))
	h, p := hostPort(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := Prober{}.Probe(ctx, h, p, model.Check{Type: "tcp", Query: "ping", Response: "pong", Timeout: 5 * time.Second})
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("cancelled probe: %v after %v", err, time.Since(start))
	}
}
