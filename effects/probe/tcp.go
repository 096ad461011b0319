package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"lighthouse/model"
)

// The tcp check: connect; without query and response, connecting passes.
// With them, send query as given (no line break is added, as in the
// original: ZooKeeper's "ruok" must be sent bare) and read one line: the
// bytes up to the first "\n", or everything the peer sent if it closes the
// connection without one (ZooKeeper answers "imok" and closes; the
// original spun forever there). The check passes when that line equals
// response, either exactly or after removing one trailing "\r": a response
// written for a "\r\n" protocol as "+PONG" matches, and one written with
// the "\r" as the original required ("+PONG\r") still does.
func init() { Register("tcp", CheckerFunc(checkTCP)) }

// maxLine bounds the response line a tcp check reads.
const maxLine = 64 << 10

func checkTCP(ctx context.Context, addr string, c model.Check) error {
	conn, done, err := connect(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	if c.Query == "" && c.Response == "" {
		return nil
	}
	if _, err := io.WriteString(conn, c.Query); err != nil {
		return fmt.Errorf("send query %q: %w", c.Query, err)
	}
	line, err := readLine(conn)
	if err != nil {
		return fmt.Errorf("read the response to %q: %w", c.Query, err)
	}
	if line == c.Response || strings.TrimSuffix(line, "\r") == c.Response {
		return nil
	}
	return fmt.Errorf("response to %q is %q, expected %q", c.Query, line, c.Response)
}

// readLine reads up to the first "\n" (not included) or to the end of the
// stream.
func readLine(r io.Reader) (string, error) {
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return string(buf[:i]), nil
		}
		if len(buf) > maxLine {
			return "", fmt.Errorf("no line break in the first %d bytes", maxLine)
		}
		if errors.Is(err, io.EOF) {
			return string(buf), nil
		}
		if err != nil {
			if len(buf) > 0 {
				return "", fmt.Errorf("%w (after %q without a line break)", err, buf)
			}
			return "", err
		}
	}
}
