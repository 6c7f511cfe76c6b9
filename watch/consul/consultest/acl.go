package consultest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

const (
	// policyPrefix starts the name of every policy CreateToken makes, so
	// that DeleteToken removes those and no other.
	policyPrefix = "consultest-"
	// globalManagement is the ID of Consul's built-in management policy.
	globalManagement = "00000000-0000-0000-0000-000000000001"
)

// aclLink names a policy in a token.
type aclLink struct {
	ID   string `json:",omitempty"`
	Name string `json:",omitempty"`
}

// aclToken is the part of an ACL token the harness writes and reads.
type aclToken struct {
	AccessorID  string    `json:",omitempty"`
	SecretID    string    `json:",omitempty"`
	Description string    `json:",omitempty"`
	Policies    []aclLink `json:",omitempty"`
}

// CreateToken creates an ACL policy with rules (HCL, e.g.
// `service_prefix "app-" { policy = "read" }`) and a token linked to it, and
// returns the token's secret once every running server knows it (so a
// request through any agent can use it at once).
func (c *Cluster) CreateToken(t TB, rules string) string {
	t.Helper()
	return c.createToken(t, rules, "")
}

// createToken creates a policy with rules and a token linked to it, whose
// secret is secret ("": Consul picks one), and returns the secret once
// every running server knows it.
func (c *Cluster) createToken(t TB, rules, secret string) string {
	t.Helper()
	s := c.runningServer(t)
	suffix, err := newUUID()
	if err != nil {
		t.Fatalf("consultest: create token: %v", err)
	}
	var policy aclLink
	body := map[string]string{"Name": policyPrefix + suffix, "Rules": rules}
	s.putJSON(t, "/v1/acl/policy", body, &policy)
	var token aclToken
	req := aclToken{SecretID: secret, Description: "consultest token", Policies: []aclLink{{ID: policy.ID}}}
	s.putJSON(t, "/v1/acl/token", req, &token)
	c.waitToken(t, token.SecretID, true)
	return token.SecretID
}

// DeleteToken revokes the token whose secret is given, and the policy
// [Cluster.CreateToken] made for it, and returns once no running server
// accepts it. Client agents serve their own /v1/agent endpoints from a
// cache of resolved tokens (acl.token_ttl, 30 s by default), so those may
// accept it a little longer; requests they forward to the servers (catalog,
// health, KV) are refused at once.
func (c *Cluster) DeleteToken(t TB, secret string) {
	t.Helper()
	s := c.runningServer(t)
	ans, err := s.do(t.Context(), secret, http.MethodGet, "/v1/acl/token/self", nil)
	if err != nil {
		t.Fatalf("consultest: delete token: %v", err)
	}
	if ans.status != http.StatusOK {
		t.Fatalf("consultest: delete token: look it up: %d %s", ans.status, strings.TrimSpace(string(ans.body)))
	}
	var token aclToken
	decodeJSON(t, "GET /v1/acl/token/self", ans.body, &token)
	s.call(t, http.MethodDelete, "/v1/acl/token/"+url.PathEscape(token.AccessorID), nil)
	for _, p := range token.Policies {
		if strings.HasPrefix(p.Name, policyPrefix) {
			s.call(t, http.MethodDelete, "/v1/acl/policy/"+url.PathEscape(p.ID), nil)
		}
	}
	c.waitToken(t, secret, false)
}

// mirrorToken makes c's management token a management token of other too,
// unless other already knows it.
func (c *Cluster) mirrorToken(t TB, other *Cluster) {
	t.Helper()
	if known, err := other.runningServer(t).knowsToken(t.Context(), c.token); err != nil {
		t.Fatalf("consultest: copy the management token of %s to %s: %v", c.dc, other.dc, err)
	} else if known {
		return
	}
	req := aclToken{
		SecretID:    c.token,
		Description: "management token of datacenter " + c.dc,
		Policies:    []aclLink{{ID: globalManagement}},
	}
	other.runningServer(t).putJSON(t, "/v1/acl/token", req, &aclToken{})
	other.waitToken(t, c.token, true)
}

// waitToken waits, up to 30 s, until every running server knows the token
// (known) or none does (!known), each answering from its own state
// (?stale), as it does when it resolves a token.
func (c *Cluster) waitToken(t TB, secret string, known bool) {
	t.Helper()
	err := poll(t.Context(), readyTimeout, func(ctx context.Context) error {
		for _, s := range c.servers {
			if !s.running() {
				continue
			}
			got, err := s.knowsToken(ctx, secret)
			if err != nil {
				return fmt.Errorf("server %s: %w", s.node, err)
			}
			if got != known {
				return fmt.Errorf("server %s knows the token: %t", s.node, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("consultest: wait for the token to be known (%t): %v", known, err)
	}
}

// knowsToken reports whether the agent's own state holds the token: 200
// from /v1/acl/token/self?stale, or 403 "ACL not found".
func (a *Agent) knowsToken(ctx context.Context, secret string) (bool, error) {
	ans, err := a.do(ctx, secret, http.MethodGet, "/v1/acl/token/self?stale", nil)
	if err != nil {
		return false, err
	}
	switch {
	case ans.status == http.StatusOK:
		return true, nil
	case ans.status == http.StatusForbidden && strings.Contains(string(ans.body), "ACL not found"):
		return false, nil
	}
	return false, fmt.Errorf("GET /v1/acl/token/self: %d %s", ans.status, strings.TrimSpace(string(ans.body)))
}

// putJSON sends v as JSON with PUT and decodes the answer into out.
func (a *Agent) putJSON(t TB, path string, v, out any) {
	t.Helper()
	resp := a.call(t, http.MethodPut, path, encodeJSON(t, "PUT "+path, v))
	decodeJSON(t, "PUT "+path, resp.body, out)
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make UUID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
