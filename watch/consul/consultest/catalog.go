package consultest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// probeNode is the node registered and deregistered to prove that the agent
// accepts catalog writes.
const probeNode = "consultest-ready-probe"

// Service is one service instance to register in the catalog, on a node
// outside the agent (the agent's anti-entropy would remove it from its own).
type Service struct {
	// Node is the node the instance runs on; required.
	Node string
	// Address is the node's address. When set, the node is created or
	// updated with it (which resets node metadata set by RegisterNode);
	// when empty, the node must already be registered and is left as is.
	Address string
	// ID is the instance ID, unique on the node; empty means Name.
	ID string
	// Name is the service name; required.
	Name string
	// Tags and Meta are the instance's tags and metadata.
	Tags []string
	Meta map[string]string
	// ServiceAddress is the instance's own address; empty means the node's.
	ServiceAddress string
	// Port is the instance's port.
	Port int
	// Checks are registered with the instance. As in Consul's own API, a
	// check belongs to the service whose ID its ServiceID names, and is
	// node-level (it affects every service on the node) when ServiceID is
	// empty.
	Checks []Check
}

// Check is a health check registered through the catalog.
type Check struct {
	// CheckID identifies the check on its node; required.
	CheckID string
	// Name is the check's name; empty means CheckID.
	Name string
	// Status is passing, warning or critical; empty means passing.
	Status string
	// ServiceID is the ID of the service instance the check belongs to;
	// empty makes a node-level check.
	ServiceID string
	// Notes and Output are free text shown with the check.
	Notes  string
	Output string
}

// Node is a node to register in the catalog.
type Node struct {
	// Name and Address are required.
	Name    string
	Address string
	// Meta is the node's metadata.
	Meta map[string]string
	// Checks are registered with the node; see [Check.ServiceID].
	Checks []Check
}

// registerRequest is the body of PUT /v1/catalog/register.
type registerRequest struct {
	Node           string
	Address        string            `json:",omitempty"`
	NodeMeta       map[string]string `json:",omitempty"`
	Service        *wireService      `json:",omitempty"`
	Checks         []wireCheck       `json:",omitempty"`
	SkipNodeUpdate bool              `json:",omitempty"`
}

type wireService struct {
	ID      string
	Service string
	Tags    []string          `json:",omitempty"`
	Meta    map[string]string `json:",omitempty"`
	Address string            `json:",omitempty"`
	Port    int
}

// wireCheck is a health check as Consul registers and returns it.
type wireCheck struct {
	Node      string
	CheckID   string
	Name      string
	Status    string
	Notes     string `json:",omitempty"`
	Output    string `json:",omitempty"`
	ServiceID string `json:",omitempty"`
}

// RegisterService registers a service instance and its checks in the
// catalog.
func (a *Agent) RegisterService(t TB, s Service) {
	t.Helper()
	if s.Node == "" || s.Name == "" {
		t.Fatalf("consultest: register service %+v: Node and Name are required", s)
	}
	if s.ID == "" {
		s.ID = s.Name
	}
	req := registerRequest{
		Node:    s.Node,
		Address: s.Address,
		Service: &wireService{
			ID: s.ID, Service: s.Name, Tags: s.Tags, Meta: s.Meta,
			Address: s.ServiceAddress, Port: s.Port,
		},
		Checks: wireChecks(t, s.Node, s.Checks),
	}
	if s.Address == "" {
		if !a.nodeExists(t, s.Node) {
			t.Fatalf("consultest: register service %s on node %s: the node is not registered; "+
				"set Service.Address or call RegisterNode first", s.ID, s.Node)
		}
		req.SkipNodeUpdate = true
	}
	a.put(t, "/v1/catalog/register", req)
}

// RegisterNode registers a node, with its metadata and checks, in the
// catalog, replacing the node's address and metadata if it exists.
func (a *Agent) RegisterNode(t TB, n Node) {
	t.Helper()
	if n.Name == "" || n.Address == "" {
		t.Fatalf("consultest: register node %+v: Name and Address are required", n)
	}
	a.put(t, "/v1/catalog/register", registerRequest{
		Node: n.Name, Address: n.Address, NodeMeta: n.Meta, Checks: wireChecks(t, n.Name, n.Checks),
	})
}

// DeregisterService removes service instance id, and its checks, from node.
func (a *Agent) DeregisterService(t TB, node, id string) {
	t.Helper()
	a.put(t, "/v1/catalog/deregister", map[string]string{"Node": node, "ServiceID": id})
}

// DeregisterNode removes node with all its services and checks.
func (a *Agent) DeregisterNode(t TB, node string) {
	t.Helper()
	a.put(t, "/v1/catalog/deregister", map[string]string{"Node": node})
}

// SetCheck changes the status of check checkID on node, which must exist and
// belong to service serviceID ("" for a node-level check), keeping its other
// fields.
func (a *Agent) SetCheck(t TB, node, checkID, serviceID, status string) {
	t.Helper()
	var checks []wireCheck
	a.GetJSON(t, "/v1/health/node/"+url.PathEscape(node), &checks)
	for _, c := range checks {
		if c.CheckID != checkID {
			continue
		}
		if c.ServiceID != serviceID {
			t.Fatalf("consultest: set check %s on node %s: it belongs to service %q, not %q",
				checkID, node, c.ServiceID, serviceID)
		}
		c.Status = status
		a.put(t, "/v1/catalog/register", registerRequest{Node: node, SkipNodeUpdate: true, Checks: []wireCheck{c}})
		return
	}
	t.Fatalf("consultest: set check %s on node %s: no such check", checkID, node)
}

// PutKV sets key to value in the KV store.
func (a *Agent) PutKV(t TB, key, value string) {
	t.Helper()
	resp := a.call(t, http.MethodPut, kvPath(key), []byte(value))
	if string(bytes.TrimSpace(resp.body)) != "true" {
		t.Fatalf("consultest: put key %q: Consul answered %q", key, resp.body)
	}
}

// DeleteKV deletes key from the KV store; a missing key is no error.
func (a *Agent) DeleteKV(t TB, key string) {
	t.Helper()
	a.call(t, http.MethodDelete, kvPath(key), nil)
}

// DeleteKVTree deletes every key starting with prefix.
func (a *Agent) DeleteKVTree(t TB, prefix string) {
	t.Helper()
	a.call(t, http.MethodDelete, kvPath(prefix)+"?recurse", nil)
}

// GetJSON reads path (with its query string, e.g.
// "/v1/health/service/web?passing"), decodes the JSON answer into out and
// returns the X-Consul-Index header, 0 when absent. A blocking query
// (index=N&wait=D) may wait up to a minute.
func (a *Agent) GetJSON(t TB, path string, out any) uint64 {
	t.Helper()
	resp := a.call(t, http.MethodGet, path, nil)
	decodeJSON(t, "GET "+path, resp.body, out)
	return headerIndex(t, path, resp.header, false)
}

// getJSON reads path and decodes the JSON answer into out.
func (a *Agent) getJSON(ctx context.Context, path string, out any) error {
	resp, err := a.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("GET %s: decode answer: %w", path, err)
	}
	return nil
}

// Index reads path and returns its X-Consul-Index header, failing the test
// when the answer carries none.
func (a *Agent) Index(t TB, path string) uint64 {
	t.Helper()
	resp := a.call(t, http.MethodGet, path, nil)
	return headerIndex(t, path, resp.header, true)
}

func headerIndex(t TB, path string, h http.Header, required bool) uint64 {
	t.Helper()
	v := h.Get("X-Consul-Index")
	if v == "" && !required {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("consultest: GET %s: X-Consul-Index %q: %v", path, v, err)
	}
	return n
}

// wireChecks converts checks for a registration on node, filling defaults.
func wireChecks(t TB, node string, checks []Check) []wireCheck {
	t.Helper()
	out := make([]wireCheck, 0, len(checks))
	for _, c := range checks {
		if c.CheckID == "" {
			t.Fatalf("consultest: check %+v on node %s: CheckID is required", c, node)
		}
		w := wireCheck{Node: node, CheckID: c.CheckID, Name: c.Name, Status: c.Status,
			Notes: c.Notes, Output: c.Output, ServiceID: c.ServiceID}
		if w.Name == "" {
			w.Name = w.CheckID
		}
		if w.Status == "" {
			w.Status = "passing"
		}
		out = append(out, w)
	}
	return out
}

// nodeExists reports whether node is in the catalog.
func (a *Agent) nodeExists(t TB, node string) bool {
	t.Helper()
	var n json.RawMessage
	a.GetJSON(t, "/v1/catalog/node/"+url.PathEscape(node), &n)
	return len(n) > 0 && string(n) != "null"
}

func kvPath(key string) string {
	return (&url.URL{Path: "/v1/kv/" + key}).EscapedPath()
}

// response is a successful answer of the agent.
type response struct {
	header http.Header
	body   []byte
}

// answer is an answer of the agent, whatever its status.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do makes one request, sending token as X-Consul-Token unless it is "".
func (a *Agent) do(ctx context.Context, token, method, path string, body []byte) (*answer, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.URL()+path, r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if token != "" {
		req.Header.Set("X-Consul-Token", token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// send makes one request with the agent's token (see [Agent.Token]) and
// fails unless the answer is 200 OK.
func (a *Agent) send(ctx context.Context, method, path string, body []byte) (*response, error) {
	ans, err := a.do(ctx, a.Token(), method, path, body)
	if err != nil {
		return nil, err
	}
	if ans.status != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s: %s", method, path,
			ans.status, http.StatusText(ans.status), bytes.TrimSpace(ans.body))
	}
	return &response{header: ans.header, body: ans.body}, nil
}

// call is send for test helpers: it fails the test on error.
func (a *Agent) call(t TB, method, path string, body []byte) *response {
	t.Helper()
	resp, err := a.send(t.Context(), method, path, body)
	if err != nil {
		t.Fatalf("consultest: %v", err)
	}
	return resp
}

// put sends v as JSON with PUT.
func (a *Agent) put(t TB, path string, v any) {
	t.Helper()
	a.call(t, http.MethodPut, path, encodeJSON(t, "PUT "+path, v))
}

// encodeJSON returns v as JSON, failing the test on error; what names the
// request.
func encodeJSON(t TB, what string, v any) []byte {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("consultest: %s: encode body: %v", what, err)
	}
	return body
}

// decodeJSON decodes an answer into out, failing the test on error; what
// names the request.
func decodeJSON(t TB, what string, data []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("consultest: %s: decode answer: %v", what, err)
	}
}

// ready reports why the agent is not ready yet: it must know a leader, have
// registered its own node, and accept a catalog write.
func (a *Agent) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, err := a.leaderAddr(ctx); err != nil {
		return err
	}
	resp, err := a.send(ctx, http.MethodGet, "/v1/catalog/node/"+url.PathEscape(a.node), nil)
	if err != nil {
		return err
	}
	if string(bytes.TrimSpace(resp.body)) == "null" {
		return fmt.Errorf("node %s not in the catalog yet", a.node)
	}
	register := fmt.Sprintf(`{"Node": %q, "Address": "127.0.0.1"}`, probeNode)
	if _, err := a.send(ctx, http.MethodPut, "/v1/catalog/register", []byte(register)); err != nil {
		return err
	}
	deregister := fmt.Sprintf(`{"Node": %q}`, probeNode)
	_, err = a.send(ctx, http.MethodPut, "/v1/catalog/deregister", []byte(deregister))
	return err
}

// leaderAddr returns the server RPC address (host:port) of the leader the
// agent knows, or an error when it knows none.
func (a *Agent) leaderAddr(ctx context.Context) (string, error) {
	resp, err := a.send(ctx, http.MethodGet, "/v1/status/leader", nil)
	if err != nil {
		return "", err
	}
	var leader string
	if err := json.Unmarshal(resp.body, &leader); err != nil || leader == "" {
		return "", errors.New("no leader yet")
	}
	return leader, nil
}
