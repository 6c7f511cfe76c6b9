package consul

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Every answer ctpl reads from Consul passes through the transport
// (roundTripper), the api client's as well as the raw reads', so the limits
// live there and cover every request:
//
//   - a successful answer's body fails with ErrAnswerTooLarge once more
//     than Options.MaxAnswerBytes have been read, counted after
//     decompression (Go's transport inflates a gzip answer it asked for
//     before our reader sees it), so an endless body or a gzip bomb ends at
//     the limit, not at the request's deadline;
//   - an error answer's body is cut to Options.MaxErrorBytes and handed on
//     as a quoted excerpt, so an api.StatusError, a log line or /status
//     never carries more;
//   - an answer in an encoding the transport did not ask for (and so did
//     not decode) is refused;
//   - a redirect is not followed (checkRedirect), so the token never
//     reaches another host.

// DefaultMaxAnswerBytes is the default largest answer body, after
// decompression.
const DefaultMaxAnswerBytes = 64 << 20

// DefaultMaxErrorBytes is the default number of bytes of an error answer's
// body that are kept.
const DefaultMaxErrorBytes = 4 << 10

// ErrAnswerTooLarge is wrapped by the error of an answer whose body exceeds
// Options.MaxAnswerBytes.
var ErrAnswerTooLarge = errors.New("answer exceeds max_answer_bytes")

// ErrRedirect is wrapped by the error of a request Consul answered with a
// redirect, which is not followed.
var ErrRedirect = errors.New("consul answered with a redirect, which ctpl does not follow")

// limits bound what is read of one answer.
type limits struct {
	answer int64 // bytes of a successful answer's body
	errors int   // bytes kept of an error answer's body
}

// bound applies the limits to resp, the answer the transport returns. A
// nil response is an error.
func (l limits) bound(resp *http.Response) (*http.Response, error) {
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		resp.Body.Close()
		return nil, fmt.Errorf("consul answered with Content-Encoding %q, which was not asked for", ce)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return l.excerpt(resp), nil
	}
	if resp.ContentLength > l.answer {
		resp.Body.Close()
		return nil, l.tooLarge()
	}
	resp.Body = &cappedBody{rc: resp.Body, left: l.answer, err: l.tooLarge()}
	return resp, nil
}

func (l limits) tooLarge() error {
	return fmt.Errorf("%w (%s)", ErrAnswerTooLarge, sizeString(l.answer))
}

// excerpt replaces an error answer's body by a quoted excerpt of at most
// l.errors bytes of it, marked when cut. The rest is not read: closing the
// body drops the connection.
func (l limits) excerpt(resp *http.Response) *http.Response {
	buf := make([]byte, l.errors+1)
	n, _ := io.ReadFull(resp.Body, buf)
	resp.Body.Close()
	text := strings.TrimSpace(string(buf[:min(n, l.errors)]))
	out := ""
	if text != "" {
		out = strconv.Quote(text)
	}
	if n > l.errors {
		out += fmt.Sprintf(" (cut at max_error_bytes, %s)", sizeString(int64(l.errors)))
	}
	resp.Body = io.NopCloser(strings.NewReader(out))
	resp.ContentLength = int64(len(out))
	return resp
}

// cappedBody reads at most left bytes of rc; a byte past them is err. It
// reads one byte beyond the limit to tell a body of exactly the limit from
// a longer one.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), b.err // drop the byte past the limit
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// checkRedirect refuses every redirect: Go would send the request's
// headers, X-Consul-Token among them, to wherever Location points.
func checkRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("%w: %d to %q", ErrRedirect, req.Response.StatusCode, req.Response.Header.Get("Location"))
}

// sizeString writes a byte count in the largest binary unit that divides
// it, as in "64 MiB".
func sizeString(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// readBody reads a body bounded by its transport to limit bytes into buf.
// The buffer is grown once to a known length, else doubled, but never past
// limit+1 bytes (the byte that proves a body too long): bytes.Buffer would
// double a 64 MiB buffer to read that byte.
func readBody(resp *http.Response, buf *bytes.Buffer, limit int64) error {
	buf.Reset()
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		buf.Grow(int(resp.ContentLength) + 1) // +1: EOF needs room to be read
	}
	for {
		if buf.Available() == 0 {
			size := int(min(int64(2*buf.Cap()+bytes.MinRead), limit+1))
			grown := make([]byte, buf.Len(), max(size, buf.Len()+bytes.MinRead))
			copy(grown, buf.Bytes())
			*buf = *bytes.NewBuffer(grown)
		}
		free := buf.AvailableBuffer()[:buf.Available()]
		n, err := resp.Body.Read(free)
		buf.Write(free[:n]) // in place: free is the buffer's own free space
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
