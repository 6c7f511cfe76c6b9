package consul

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch/consul/internal/decode"
)

// rawClient sends the hot requests itself, the way the api client would
// send them, so that it holds the answer's body: an unchanged body is then
// recognised before decoding, and a changed one decoded by package decode's
// decoders. It uses the api client's HTTP client (so the transport, TLS,
// connection budget, 429 handling and request observer all apply), address,
// path prefix, basic auth, default datacenter, namespace, partition
// and wait, and custom headers.
type rawClient struct {
	hc      *http.Client
	scheme  string
	host    string
	prefix  string
	auth    *api.HttpBasicAuth
	headers func() http.Header
	dc, ns  string
	part    string
	wait    time.Duration
	max     int64 // the answer limit its transport applies
}

// newRawClient reads cfg after api.NewClient has completed it; max is the
// answer limit of cfg's transport.
func newRawClient(cfg *api.Config, c *api.Client, max int64) *rawClient {
	host := cfg.Address
	if strings.HasPrefix(host, "/") {
		host = "localhost" // a unix socket, as the api client does
	}
	return &rawClient{
		hc: cfg.HttpClient, scheme: cfg.Scheme, host: host, prefix: cfg.PathPrefix,
		auth: cfg.HttpAuth, headers: c.Headers, dc: cfg.Datacenter, ns: cfg.Namespace, part: cfg.Partition,
		wait: cfg.WaitTime, max: max,
	}
}

// params returns the query string the api client would send for o.
func (r *rawClient) params(o *api.QueryOptions) url.Values {
	p := url.Values{}
	set := func(k, v string) {
		if v != "" {
			p.Set(k, v)
		}
	}
	set("dc", r.dc)
	set("ns", r.ns)
	set("partition", r.part)
	if r.wait != 0 {
		p.Set("wait", durToMsec(r.wait))
	}
	set("ns", o.Namespace)
	set("partition", o.Partition)
	set("sameness-group", o.SamenessGroup)
	set("dc", o.Datacenter)
	set("peer", o.Peer)
	if o.AllowStale {
		p.Set("stale", "")
	}
	if o.RequireConsistent {
		p.Set("consistent", "")
	}
	if o.WaitIndex != 0 {
		p.Set("index", strconv.FormatUint(o.WaitIndex, 10))
	}
	if o.WaitTime != 0 {
		p.Set("wait", durToMsec(o.WaitTime))
	}
	set("hash", o.WaitHash)
	set("near", o.Near)
	set("filter", o.Filter)
	for k, v := range o.NodeMeta {
		p.Add("node-meta", k+":"+v)
	}
	if o.UseCache && !o.RequireConsistent {
		p.Set("cached", "")
	}
	return p
}

// durToMsec writes a wait the way the api client does: whole
// milliseconds, at least 1 for a positive duration.
func durToMsec(d time.Duration) string {
	ms := d / time.Millisecond
	if d > 0 && ms == 0 {
		ms = 1
	}
	return fmt.Sprintf("%dms", ms)
}

// get sends GET path?params with o's context and token and returns the
// answer's metadata and body, which is valid until buf is reused. A status
// other than 200 is an api.StatusError, as from the api client.
func (r *rawClient) get(o *api.QueryOptions, path string, params url.Values, buf *bytes.Buffer) (*api.QueryMeta, []byte, error) {
	u := &url.URL{Scheme: r.scheme, Host: r.host, Path: r.prefix + path, RawQuery: params.Encode()}
	ctx := o.Context()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header = r.headers()
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	if o.Token != "" {
		req.Header.Set(tokenHeader, o.Token)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth != nil {
		req.SetBasicAuth(r.auth.Username, r.auth.Password)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	// The transport bounds the body: an error answer's is a short excerpt,
	// a successful one's fails past the answer limit.
	if err := readBody(resp, buf, r.max); err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, api.StatusError{Code: resp.StatusCode, Body: buf.String()}
	}
	return queryMeta(resp.Header), buf.Bytes(), nil
}

// queryMeta reads the headers the api client reads into its QueryMeta.
// Unlike it, a header it cannot parse leaves only its own field unset.
func queryMeta(h http.Header) *api.QueryMeta {
	m := &api.QueryMeta{}
	m.LastIndex, _ = strconv.ParseUint(h.Get("X-Consul-Index"), 10, 64)
	m.LastContentHash = h.Get("X-Consul-ContentHash")
	if last, err := strconv.ParseUint(h.Get("X-Consul-LastContact"), 10, 64); err == nil && last <= 1<<62/uint64(time.Millisecond) {
		m.LastContact = time.Duration(last) * time.Millisecond
	}
	m.KnownLeader = h.Get("X-Consul-KnownLeader") == "true"
	m.AddressTranslationEnabled = h.Get("X-Consul-Translate-Addresses") == "true"
	if v := h.Get("X-Consul-Default-ACL-Policy"); v == "allow" || v == "deny" {
		m.DefaultACLPolicy = v
	}
	m.ResultsFilteredByACLs = h.Get("X-Consul-Results-Filtered-By-ACLs") == "true"
	if v := h.Get("X-Cache"); v != "" {
		m.CacheHit = strings.EqualFold(v, "HIT")
	}
	if age, err := strconv.ParseUint(h.Get("Age"), 10, 32); err == nil {
		m.CacheAge = time.Duration(age) * time.Second
	}
	if v := h.Get("X-Consul-Query-Backend"); v == api.QueryBackendStreaming || v == api.QueryBackendBlockingQuery {
		m.QueryBackend = v
	}
	return m
}

// rawRead sends GET path with o's options (and extra's additions to the
// query string) and returns the decoded body, the last value again when the
// body is unchanged.
func rawRead[T any](c *Client, o *api.QueryOptions, path string, extra func(url.Values), last *decode.Memo[T],
	decodeBody func([]byte) (T, error)) (T, *api.QueryMeta, error) {
	params := c.raw.params(o)
	if extra != nil {
		extra(params)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	meta, body, err := c.raw.get(o, path, params, buf)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	v, err := last.Decode(body, &c.dec, decodeBody)
	return v, meta, err
}

// readRaw sends GET path with o's options, as the api client's Raw().Query
// would, and calls use with the answer's metadata and body. The body is
// only valid during the call. A status other than 200 is an
// api.StatusError. The change detectors read whole tables through it,
// to decode only the fields they compare.
func (c *Client) readRaw(o *api.QueryOptions, path string, use func(meta *api.QueryMeta, body []byte) error) error {
	buf := getBuffer()
	defer putBuffer(buf)
	meta, body, err := c.raw.get(o, path, c.raw.params(o), buf)
	if err != nil {
		return err
	}
	return use(meta, body)
}

// bodies lends the buffers answers are read into.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBody is the largest buffer returned to the pool.
const maxPooledBody = 4 << 20

func getBuffer() *bytes.Buffer { return bodies.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		bodies.Put(b)
	}
}

// DecodeStats returns how many answers of the hot queries were decoded and
// how many decodes were saved because the body had not changed.
func (c *Client) DecodeStats() (decoded, skipped int64) {
	return c.dec.Load()
}
