package consul

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

func TestCappedBody(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		limit   int64
		wantErr bool
	}{
		{name: "empty", size: 0, limit: 10},
		{name: "under the limit", size: 9, limit: 10},
		{name: "exactly the limit", size: 10, limit: 10},
		{name: "one byte over", size: 11, limit: 10, wantErr: true},
		{name: "far over", size: 1 << 20, limit: 10, wantErr: true},
		{name: "zero limit", size: 1, limit: 0, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tooLarge := errors.New("too large")
			b := &cappedBody{rc: io.NopCloser(bytes.NewReader(make([]byte, tc.size))), left: tc.limit, err: tooLarge}
			got, err := io.ReadAll(b)
			if tc.wantErr {
				if !errors.Is(err, tooLarge) || int64(len(got)) != tc.limit {
					t.Errorf("read %d bytes, error %v; want %d bytes and the limit's error", len(got), err, tc.limit)
				}
				return
			}
			if err != nil || len(got) != tc.size {
				t.Errorf("read %d bytes, error %v; want %d, nil", len(got), err, tc.size)
			}
		})
	}
}

// TestGzipBombAsked reads a gzip bomb through the transport of a client
// that asked for compression (an agent that is not on loopback): Go's
// transport inflates it, and the limit applies to the inflated stream.
func TestGzipBombAsked(t *testing.T) {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte(" "), 1<<20))
	zw.Close()
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Encoding", "gzip")
		for range 1024 { // ~1 MB inflating to 1 GiB
			if _, err := w.Write(member.Bytes()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	const limit = 1 << 20
	hc := &http.Client{Transport: &roundTripper{next: &http.Transport{}, limits: limits{answer: limit, errors: 4096}}}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	err = readBody(resp, &buf, limit)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if asked != "gzip" || !resp.Uncompressed {
		t.Fatalf("Accept-Encoding %q, uncompressed %v: the transport did not ask for gzip", asked, resp.Uncompressed)
	}
	if !errors.Is(err, ErrAnswerTooLarge) || !strings.Contains(err.Error(), "(1 MiB)") || buf.Len() != limit {
		t.Errorf("read %d bytes, error %v; want %d and ErrAnswerTooLarge", buf.Len(), err, limit)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 16<<20 {
		t.Errorf("allocated %d MiB, want < 16 MiB", used>>20)
	}
}

func TestErrorExcerpt(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "short", body: "no leader\n", want: `"no leader"`},
		{name: "empty", body: "", want: ``},
		{name: "controls are quoted", body: "a\x1b[31mb\u0085c", want: `"a\x1b[31mb\u0085c"`},
		{name: "cut", body: strings.Repeat("x", 20), want: `"xxxxxxxxxx" (cut at max_error_bytes, 10 bytes)`},
		{name: "exactly the limit", body: strings.Repeat("x", 10), want: `"xxxxxxxxxx"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: 500, Header: http.Header{},
				Body: io.NopCloser(strings.NewReader(tc.body))}
			resp, err := limits{answer: 100, errors: 10}.bound(resp)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if string(got) != tc.want {
				t.Errorf("body %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSizeString(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 4 << 10: "4 KiB", 1 << 30: "1 GiB", 1000: "1000 bytes",
		3<<20 + 1: "3145729 bytes"} {
		if got := sizeString(n); got != want {
			t.Errorf("sizeString(%d) = %q, want %q", n, got, want)
		}
	}
}
