package consul

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RequestInfo describes one HTTP request to Consul, for [Options.Observe].
type RequestInfo struct {
	// Endpoint is the request's path with names and keys left out, such as
	// "/v1/health/service" or "/v1/kv": few distinct values, fit for a
	// metric label.
	Endpoint string
	// Code is the HTTP status code, 0 when no response arrived.
	Code int
	// Duration runs from sending the request to receiving the response
	// headers; for a blocking query it includes the time Consul held it.
	Duration time.Duration
	// Err is the transport error, nil when a response arrived.
	Err error
}

// connCounter counts the TCP connections open to Consul and, with a limit,
// holds a dial back while the limit is reached.
type connCounter struct {
	open  atomic.Int64
	peak  atomic.Int64
	slots chan struct{} // one token per open connection; nil: no limit
}

// dial wraps a dial function so every connection it makes is counted until
// it is closed.
func (c *connCounter) dial(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if c.slots != nil {
			select {
			case c.slots <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		conn, err := next(ctx, network, addr)
		if err != nil {
			if c.slots != nil {
				<-c.slots
			}
			return nil, err
		}
		n := c.open.Add(1)
		for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
		}
		return &countedConn{Conn: conn, c: c}, nil
	}
}

type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() {
		cc.c.open.Add(-1)
		if cc.c.slots != nil {
			<-cc.c.slots
		}
	})
	return cc.Conn.Close()
}

// OpenConns returns the number of TCP connections currently open to Consul.
func (c *Client) OpenConns() int { return int(c.conns.open.Load()) }

// PeakConns returns the most TCP connections that were open to Consul at
// once since the client was made.
func (c *Client) PeakConns() int { return int(c.conns.peak.Load()) }

// roundTripper observes every request and absorbs 429 Too Many Requests:
// it lowers the client's request budget and retries after a backoff, so the
// caller never sees a 429. It bounds every answer it returns (limits.bound).
//
// Over HTTPS it also warms up: requests go one at a time until one has
// succeeded, so a burst of first requests shares one HTTP/2 connection
// instead of each dialling its own.
type roundTripper struct {
	next    http.RoundTripper
	observe func(RequestInfo)
	on429   func(attempt int) time.Duration // returns the delay before the retry
	limits  limits

	warmup chan struct{} // a one-slot lock held by the warm-up request; nil: warm
	warm   atomic.Bool
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.warmup != nil && !rt.warm.Load() {
		select {
		case rt.warmup <- struct{}{}:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		if rt.warm.Load() {
			<-rt.warmup
		} else {
			defer func() { <-rt.warmup }()
		}
	}
	refused := 0
	for attempt := 1; ; attempt++ {
		start := time.Now()
		resp, err := rt.next.RoundTrip(req)
		if rt.observe != nil {
			info := RequestInfo{Endpoint: endpoint(req.URL.Path), Duration: time.Since(start), Err: err}
			if resp != nil {
				info.Code = resp.StatusCode
			}
			rt.observe(info)
		}
		if err == nil && resp.StatusCode < 500 {
			rt.warm.Store(true)
		}
		idempotent := req.Method == http.MethodGet && (req.Body == nil || req.Body == http.NoBody)
		switch {
		case err != nil && idempotent && refusedOnIdle(err) && refused < 10 && req.Context().Err() == nil:
			// Consul answered 429 on a pooled connection before our
			// request was sent on it: the same refusal, seen late.
			refused++
		case err != nil:
			return nil, err
		case resp.StatusCode != http.StatusTooManyRequests || !idempotent:
			return rt.limits.bound(resp)
		default:
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t := time.NewTimer(rt.on429(attempt))
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		}
	}
}

// refusedOnIdle reports whether err is Go's transport noticing that the
// server wrote to (and closed) an idle pooled connection, which is how a
// 429 sent at accept time surfaces when the connection is used later.
func refusedOnIdle(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "readLoopPeekFailLocked") || strings.Contains(msg, "server closed idle connection")
}

// endpoint reduces a request path to its endpoint: the names, keys and IDs
// that follow the endpoint's fixed part are left out.
func endpoint(path string) string {
	for _, p := range endpointPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return p
		}
	}
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return "/" + strings.Join(parts, "/")
}

// endpointPrefixes are the endpoints whose fixed part is not three path
// segments long.
var endpointPrefixes = []string{
	"/v1/kv",
	"/v1/agent/connect/ca/roots",
	"/v1/agent/connect/ca/leaf",
	"/v1/catalog/node-services",
}
