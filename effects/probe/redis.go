package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"lighthouse/model"
)

// The redis check: PING as a RESP command, and the reply must be the
// simple string PONG ("+PONG\r\n"). An error reply (-NOAUTH, -LOADING, ...)
// fails with Redis's message. The original sent "PING" without a line
// terminator and compared the reply with "PONG", so it could never pass.
func init() { Register("redis", CheckerFunc(checkRedis)) }

const (
	redisPing = "*1\r\n$4\r\nPING\r\n"
	maxBulk   = 1 << 20
	maxDepth  = 8
)

func checkRedis(ctx context.Context, addr string, _ model.Check) error {
	conn, done, err := connect(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	if _, err := io.WriteString(conn, redisPing); err != nil {
		return fmt.Errorf("send PING: %w", err)
	}
	reply, err := readRESP(bufio.NewReader(conn), 0)
	if err != nil {
		return fmt.Errorf("read the reply to PING: %w", err)
	}
	if reply.kind == '+' && reply.text == "PONG" {
		return nil
	}
	if reply.kind == '-' {
		return fmt.Errorf("PING answered with an error: %s", reply.text)
	}
	return fmt.Errorf("PING answered %s, expected +PONG", reply)
}

// respValue is one RESP reply, enough of it to report what came back.
type respValue struct {
	kind byte   // '+', '-', ':', '$', '*'
	text string // simple string, error, integer or bulk string
	null bool
	n    int // array length
}

func (v respValue) String() string {
	switch {
	case v.null:
		return "a null " + string(v.kind)
	case v.kind == '*':
		return fmt.Sprintf("an array of %d", v.n)
	}
	return strconv.Quote(string(v.kind) + v.text)
}

// readRESP reads one RESP2 reply.
func readRESP(r *bufio.Reader, depth int) (respValue, error) {
	line, err := readCRLF(r)
	if err != nil {
		return respValue{}, err
	}
	if line == "" {
		return respValue{}, errors.New("empty reply line")
	}
	v := respValue{kind: line[0], text: line[1:]}
	switch v.kind {
	case '+', '-', ':':
		return v, nil
	case '$':
		n, err := strconv.Atoi(v.text)
		if err != nil || n < -1 || n > maxBulk {
			return v, fmt.Errorf("bad bulk length %q", v.text)
		}
		if n == -1 {
			v.null, v.text = true, ""
			return v, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return v, fmt.Errorf("bulk string: %w", err)
		}
		if string(b[n:]) != "\r\n" {
			return v, errors.New("bulk string not terminated by CRLF")
		}
		v.text = string(b[:n])
		return v, nil
	case '*':
		n, err := strconv.Atoi(v.text)
		if err != nil || n < -1 || n > maxBulk {
			return v, fmt.Errorf("bad array length %q", v.text)
		}
		if n == -1 {
			v.null = true
			return v, nil
		}
		if depth >= maxDepth {
			return v, errors.New("arrays nested too deep")
		}
		v.n = n
		for i := 0; i < n; i++ {
			if _, err := readRESP(r, depth+1); err != nil {
				return v, err
			}
		}
		return v, nil
	}
	return v, fmt.Errorf("not a RESP reply: %q", line)
}

// readCRLF reads a line terminated by "\r\n" (or a bare "\n"), which is
// not included.
func readCRLF(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		part, isPrefix, err := r.ReadLine()
		line = append(line, part...)
		if err != nil {
			return "", err
		}
		if len(line) > maxLine {
			return "", fmt.Errorf("reply line longer than %d bytes", maxLine)
		}
		if !isPrefix {
			return string(line), nil
		}
	}
}
