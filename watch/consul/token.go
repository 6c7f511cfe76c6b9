package consul

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/hashicorp/consul/api"
)

// The ACL token travels in the api client's custom headers rather than in
// its config, so that it can change while requests run: both the api
// client's requests and the raw reads take their headers from there, per
// request. A token read from a file (consul.token_file or
// CONSUL_HTTP_TOKEN_FILE) can be read again ([Client.ReloadToken]) or set
// by whoever watches the file ([Client.SetToken]).

// tokenHeader is the header Consul reads the ACL token from.
const tokenHeader = "X-Consul-Token"

// takeToken moves the token out of cfg, where the api client would fix it
// for the client's life, and returns it with the file it came from ("" for
// a token given directly).
func takeToken(cfg *api.Config) (token, file string, err error) {
	token, file = cfg.Token, ""
	if token == "" && cfg.TokenFile != "" {
		file = cfg.TokenFile
		if token, err = readToken(file); err != nil {
			return "", "", err
		}
	}
	cfg.Token, cfg.TokenFile = "", ""
	return token, file, nil
}

// readToken reads a token file: its content without surrounding space.
func readToken(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("token file %s: %w", file, errEmptyToken)
	}
	return token, nil
}

var errEmptyToken = errors.New("empty token")

// TokenFile returns the file the ACL token is read from, or "" when the
// token was given directly (or there is none).
func (c *Client) TokenFile() string { return c.tokenFile }

// ReloadToken reads the token file again and uses its token from the next
// request on; it reports whether the token changed. Without a token file it
// does nothing. An unreadable or empty file keeps the token in use.
func (c *Client) ReloadToken() (changed bool, err error) {
	if c.tokenFile == "" {
		return false, nil
	}
	token, err := readToken(c.tokenFile)
	if err != nil {
		return false, err
	}
	return c.SetToken(token), nil
}

// SetToken makes token the ACL token of every request from now on and
// reports whether it changed. Requests in flight keep the token they were
// sent with: to read everything again under the new token, refresh the
// watcher (watch.Watcher.Refresh). An empty token is ignored.
func (c *Client) SetToken(token string) bool {
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	c.tokenMu.Lock()
	defer c.tokenMu.Unlock()
	h := c.api.Headers()
	if h.Get(tokenHeader) == token {
		return false
	}
	if h == nil {
		h = make(http.Header)
	}
	h.Set(tokenHeader, token)
	c.api.SetHeaders(h)
	return true
}
