package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// ErrUnreachable is wrapped by the error of [Reach] when nothing answered
// HTTP at the agent's address: a refused connection, a name that does not
// resolve, a TLS handshake that fails, a connection that times out.
var ErrUnreachable = errors.New("consul unreachable")

// Reach checks that the agent named by opts answers HTTP at all, reading
// /v1/status/leader (which needs no ACL), and retries a connection failure
// with a doubling backoff (from 100 ms, at most 1 s) until within has
// passed. Any HTTP answer, an error status included, proves the agent
// reachable; Reach then returns nil, or an error wrapping ErrACLNotFound
// when Consul does not know the client's token. Other problems are left
// for the queries to report.
func Reach(ctx context.Context, opts Options, within time.Duration) error {
	opts.Agent = nil
	c, err := New(opts)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, max(within, 100*time.Millisecond))
	defer cancel()
	backoff := 100 * time.Millisecond
	for {
		err := c.reachLeader(ctx)
		if err == nil {
			return c.knownToken(ctx)
		}
		if !transportError(err) {
			return nil
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ErrUnreachable, err)
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// reachLeader reads the leader's address; an answer of any status is a success.
func (c *Client) reachLeader(ctx context.Context) error {
	var leader string
	_, err := c.api.Raw().Query("/v1/status/leader", &leader, new(api.QueryOptions).WithContext(ctx))
	if _, ok := errors.AsType[api.StatusError](err); ok {
		return nil
	}
	return err
}

// knownToken asks Consul about the client's token, when it has one: a
// token Consul does not know (revoked, expired, mistyped) fails every query
// however long they retry, so Reach says so at once with ErrACLNotFound.
// Any other answer (ACLs disabled, an error) is left to the queries.
func (c *Client) knownToken(ctx context.Context) error {
	if c.api.Headers().Get(tokenHeader) == "" {
		return nil
	}
	var self map[string]any
	_, err := c.api.Raw().Query("/v1/acl/token/self", &self, new(api.QueryOptions).WithContext(ctx))
	if se, ok := errors.AsType[api.StatusError](err); ok && se.Code == http.StatusForbidden && strings.Contains(se.Body, "ACL not found") {
		return fmt.Errorf("%w: %w", ErrACLNotFound, err)
	}
	return nil
}

// transportError reports whether err is a failure to talk HTTP at all.
func transportError(err error) bool {
	_, ok := errors.AsType[*url.Error](err)
	return ok
}
