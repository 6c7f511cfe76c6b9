package consul

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/decode"
	"github.com/ctpl/ctpl/watch/consul/internal/detect"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// Options configure a [Client]. Empty fields keep what api.DefaultConfig
// read from the CONSUL_* environment variables.
type Options struct {
	// Address is host:port or a URL of the Consul agent; an https:// URL
	// (or CONSUL_HTTP_SSL=true) selects TLS.
	Address string
	// Token and TokenFile give the ACL token; Token wins.
	Token, TokenFile string
	// TLS settings; empty fields keep CONSUL_CACERT, CONSUL_CAPATH,
	// CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY and CONSUL_TLS_SERVER_NAME.
	TLS TLSOptions
	// MaxStale lets any server answer when its data is at most this old;
	// an answer staler than that is read again from the leader. 0 reads
	// from the leader always.
	MaxStale time.Duration
	// MaxConns is the connection budget over plain HTTP: ctpl never opens
	// more connections to the agent, whatever the number of queries. The
	// default is 100, or, through a client agent whose connection limit
	// Agent gives, that limit less an eighth (at least 16). Over TLS,
	// HTTP/2 multiplexes every request over at most four connections.
	MaxConns int
	// Agent is what Discover learnt of the agent: through a client agent,
	// health reads ride its streamed views, and the connection budget
	// follows its limit. Nil reads as from a server.
	Agent *Agent
	// Untrusted says what to do with registry strings holding control
	// characters or invalid UTF-8 (default watch.UntrustedDrop).
	Untrusted watch.UntrustedPolicy
	// FormatChars says whether Unicode format characters (U+202E, …) make
	// a registry string untrusted (default watch.FormatCharsScreen).
	FormatChars watch.FormatCharPolicy
	// MaxAnswerBytes bounds the body of every answer read from Consul,
	// after decompression (default DefaultMaxAnswerBytes): a longer one
	// is an error wrapping ErrAnswerTooLarge and the query keeps its last
	// value.
	MaxAnswerBytes int64
	// MaxErrorBytes bounds what is kept of an error answer's body (default
	// DefaultMaxErrorBytes): errors carry a quoted excerpt of at most this.
	MaxErrorBytes int
	// PreparedQueryInterval is how often a prepared query is executed
	// (default DefaultPreparedQueryInterval): Consul's execute endpoint does
	// not block, so it is polled.
	PreparedQueryInterval time.Duration
	// Observe, when set, is called after every HTTP request to Consul. It
	// must not block.
	Observe func(RequestInfo)
	// Logger receives warnings about untrusted strings and debug lines.
	Logger *slog.Logger
	// OneShot says the client serves one render and stops (ctpl -once):
	// advice about what a long-running agent costs Consul is logged at
	// debug, not as a warning.
	OneShot bool
}

// TLSOptions configure TLS to the agent's HTTPS listener.
type TLSOptions struct {
	// Enable selects https even for an address without a scheme.
	Enable bool
	// CAFile and CAPath name the CA certificates that verify the agent.
	CAFile, CAPath string
	// CertFile and KeyFile are the client certificate and key, for agents
	// that verify incoming connections.
	CertFile, KeyFile string
	// ServerName is the name the agent's certificate must carry, when it
	// differs from the address's host.
	ServerName string
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool
}

// DefaultMaxConns is the default connection budget over plain HTTP.
const DefaultMaxConns = 100

// minConns is the smallest connection budget: a plain read, a long poll and
// the change detectors.
const minConns = gate.DetectorConns + 2

// h2Streams is the most requests in flight per HTTP/2 connection: the 100
// concurrent streams Go's HTTP/2 client assumes before the server's settings
// arrive (Consul's server allows 250).
const h2Streams = 100

// h2Conns is the most connections opened to an HTTPS agent: HTTP/2
// multiplexes every request over them.
const h2Conns = 4

// Client serves watch queries from Consul.
type Client struct {
	api       *api.Client
	maxStale  time.Duration
	pollEvery time.Duration // Options.PreparedQueryInterval
	policy    watch.UntrustedPolicy
	format    watch.FormatCharPolicy
	warnings  warnings
	log       *slog.Logger
	conns     connCounter
	https     bool
	budget    gate.Budget     // requests in flight: long polls and plain reads
	track     *detect.Tracker // change generations for followers
	count     counters
	detected  detect.Counters // what the change detectors did

	followable     atomic.Int64 // followable queries made
	viaClientAgent bool         // health reads ask for the agent's views (Options.Agent)
	oneShot        bool         // Options.OneShot
	shrunk         atomic.Int64 // when the budget last shrank (UnixNano)
	detectOnce     sync.Once
	detecting      atomic.Bool     // the change detectors started
	ctx            context.Context // ends the change detectors
	cancel         context.CancelFunc
	wg             sync.WaitGroup

	selfMu   sync.Mutex
	selfNode string

	tokenMu   sync.Mutex // serialises token changes
	tokenFile string     // where the token comes from; "" for a static one

	idle   interface{ CloseIdleConnections() } // the transport, closed by Close
	raw    *rawClient                          // sends the hot requests and keeps their bodies
	intern *decode.Interner                    // strings and values decoded answers share
	dec    decode.Counters                     // decodes done and saved
}

// New returns a Client for the agent named by opts and the environment.
func New(opts Options) (*Client, error) {
	cfg := api.DefaultConfig()
	applyOptions(cfg, opts)
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	policy := cmp.Or(opts.Untrusted, watch.UntrustedDrop)
	format := cmp.Or(opts.FormatChars, watch.FormatCharsScreen)
	cl := &Client{maxStale: opts.MaxStale, policy: policy, format: format, log: log, track: detect.NewTracker(),
		pollEvery: cmp.Or(max(opts.PreparedQueryInterval, 0), DefaultPreparedQueryInterval)}
	cl.ctx, cl.cancel = context.WithCancel(context.Background())
	cl.warnings.c = cl
	cl.https = cfg.Scheme == "https" || strings.HasPrefix(cfg.Address, "https://")
	maxConns := max(connBudget(opts.MaxConns, opts.Agent), minConns)
	if opts.Agent != nil {
		cl.viaClientAgent = !opts.Agent.Server
		cl.selfNode = opts.Agent.Node
	}
	cl.oneShot = opts.OneShot
	tr := cfg.Transport // a fresh pooled transport from api.DefaultConfig
	cl.idle = tr
	// The dialer holds a dial back while the budget's connections are open,
	// whatever the transport's own accounting says.
	cl.conns.slots = make(chan struct{}, maxConns)
	if cl.https {
		cl.conns.slots = make(chan struct{}, h2Conns)
	}
	tr.DialContext = cl.conns.dial(tr.DialContext)
	tr.ForceAttemptHTTP2 = true // a custom TLS config would otherwise turn HTTP/2 off
	tr.MaxConnsPerHost = maxConns
	inflight := maxConns
	if cl.https {
		tr.MaxConnsPerHost = h2Conns
		inflight = h2Conns * h2Streams
	}
	cl.budget = gate.NewBudget(inflight)
	tr.MaxIdleConnsPerHost = tr.MaxConnsPerHost
	// Compressing answers on loopback only costs CPU on both ends (the
	// agent's gzip and ours): a cold start of 1,000 services reads ~16 MB.
	tr.DisableCompression = tr.DisableCompression || loopback(cfg.Address)
	hc, err := api.NewHttpClient(tr, cfg.TLSConfig)
	if err != nil {
		return nil, fmt.Errorf("consul client: tls: %w", err)
	}
	rt := &roundTripper{next: tr, observe: opts.Observe, on429: cl.on429, limits: limits{
		answer: cmp.Or(max(opts.MaxAnswerBytes, 0), DefaultMaxAnswerBytes),
		errors: cmp.Or(max(opts.MaxErrorBytes, 0), DefaultMaxErrorBytes),
	}}
	if cl.https {
		rt.warmup = make(chan struct{}, 1)
	}
	hc.Transport = rt
	hc.CheckRedirect = checkRedirect // the token must not reach another host
	cfg.HttpClient = hc
	token, tokenFile, err := takeToken(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	cl.api, cl.tokenFile = c, tokenFile
	cl.SetToken(token)
	cl.raw = newRawClient(cfg, c, rt.limits.answer)
	cl.intern = &decode.Interner{}
	return cl, nil
}

// loopback reports whether the agent's address is a unix socket or a
// loopback host.
func loopback(address string) bool {
	scheme, rest, ok := strings.Cut(address, "://")
	if !ok {
		rest = address
	} else if scheme == "unix" {
		return true
	}
	rest, _, _ = strings.Cut(rest, "/")
	host := rest
	if h, _, err := net.SplitHostPort(rest); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// applyOptions writes the explicit options over the environment's.
func applyOptions(cfg *api.Config, opts Options) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Address, opts.Address)
	if opts.Token != "" {
		cfg.Token = opts.Token
	} else if opts.TokenFile != "" {
		cfg.Token, cfg.TokenFile = "", opts.TokenFile // the configured file wins over CONSUL_HTTP_TOKEN
	}
	t := opts.TLS
	if t.Enable {
		cfg.Scheme = "https"
	}
	set(&cfg.TLSConfig.CAFile, t.CAFile)
	set(&cfg.TLSConfig.CAPath, t.CAPath)
	set(&cfg.TLSConfig.CertFile, t.CertFile)
	set(&cfg.TLSConfig.KeyFile, t.KeyFile)
	set(&cfg.TLSConfig.Address, t.ServerName)
	if t.InsecureSkipVerify {
		cfg.TLSConfig.InsecureSkipVerify = true
	}
}

// on429 is called when Consul refused a request for too many connections:
// the budget shrinks below the connections open now (at most once a
// second), preempting long polls beyond it, and the request is retried
// after the returned delay.
func (c *Client) on429(attempt int) time.Duration {
	now := time.Now().UnixNano()
	if last := c.shrunk.Load(); now-last > int64(time.Second) && c.shrunk.CompareAndSwap(last, now) {
		open := c.OpenConns()
		c.budget.Shrink(max(open-2, minConns))
		_, long := c.budget.Long.Stats()
		_, short := c.budget.Short.Stats()
		c.log.Warn("consul refused a connection (429 Too Many Requests); lowering the connection budget",
			"open_conns", open, "long_polls", long, "plain_reads", short)
	}
	d := min(25*time.Millisecond<<min(attempt-1, 8), 5*time.Second)
	return d/2 + rand.N(d/2+1) // jitter, so refused requests do not return together
}

// constructors maps each kind this adapter serves to the query it builds.
var constructors = map[watch.Kind]func(*Client, watch.Spec) watch.QueryFunc{
	watch.KindHealthService:   (*Client).healthService,
	watch.KindCatalogServices: (*Client).catalogServices,
	watch.KindCatalogNodes:    (*Client).catalogNodes,
	watch.KindCatalogNode:     (*Client).catalogNode,
	watch.KindKVGet:           (*Client).kvGet,
	watch.KindKVList:          (*Client).kvList,
	watch.KindHealthConnect:   (*Client).healthConnect,
	watch.KindDatacenters:     (*Client).datacenters,
	watch.KindCARoots:         (*Client).caRoots,
	watch.KindCALeaf:          (*Client).caLeaf,
	watch.KindPreparedQuery:   (*Client).preparedQuery,
}

// Kinds returns the kinds of query the client serves.
func (c *Client) Kinds() []watch.Kind {
	return slices.Collect(maps.Keys(constructors))
}

// ErrUnsupported is returned for a kind this adapter does not serve.
var ErrUnsupported = errors.New("unsupported query kind")

// Query returns the query for spec.
func (c *Client) Query(spec watch.Spec) (watch.Query, error) {
	build, ok := constructors[spec.Kind]
	if !ok {
		return nil, fmt.Errorf("consul: %s: %w", spec.Kind, ErrUnsupported)
	}
	key := spec.String()
	if spec.Kind == watch.KindPreparedQuery { // the endpoint does not block: it is polled
		return &query{fetch: c.polled(build(c, spec)), close: func() {}}, nil
	}
	return &query{fetch: c.gated(spec, build(c, spec)), close: func() { c.track.Forget(key) }}, nil
}

// query is a watch.Query whose Close, called by the watcher when it stops
// watching, drops what the client keeps for it.
type query struct {
	fetch watch.QueryFunc
	close func()
}

func (q *query) Fetch(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
	return q.fetch(ctx, fo)
}

// Close forgets the query's follower state.
func (q *query) Close() { q.close() }

// options builds the request options for spec.
func (c *Client) options(ctx context.Context, spec watch.Spec, fo watch.FetchOptions) *api.QueryOptions {
	o := &api.QueryOptions{
		Datacenter:    spec.DC,
		Near:          spec.Near,
		Namespace:     spec.Namespace,
		Partition:     spec.Partition,
		Peer:          spec.Peer,
		SamenessGroup: spec.SamenessGroup,
		Filter:        spec.Filter,
		WaitIndex:     fo.Index,
		WaitTime:      fo.Wait,
		AllowStale:    c.maxStale > 0,
		UseCache:      c.fromView(spec) && !bypassView(ctx),
	}
	return o.WithContext(ctx)
}

// answer is what a query needs of an answer's metadata.
type answer struct {
	index uint64
	// filtered: Consul left out what the token may not read
	// (X-Consul-Results-Filtered-By-ACLs). The rest is the token's view of
	// the registry, and is the query's result, as for consul-template.
	filtered bool
}

// read runs get with stale reads allowed when configured, and again from the
// leader when the answering server was out of contact longer than MaxStale.
func read[T any](c *Client, ctx context.Context, spec watch.Spec, fo watch.FetchOptions,
	get func(*api.QueryOptions) (T, *api.QueryMeta, error)) (T, answer, error) {
	opts := c.options(ctx, spec, fo)
	v, meta, err := get(opts)
	if err == nil && opts.AllowStale && stale(meta, c.maxStale) {
		c.log.Debug("stale answer; reading from the leader", "query", spec.String(), "last_contact", meta.LastContact)
		opts.AllowStale = false
		v, meta, err = get(opts)
	}
	if err != nil {
		var zero T
		return zero, answer{}, refusedError(spec, aclError(spec, err))
	}
	return v, answer{index: meta.LastIndex, filtered: meta.ResultsFilteredByACLs}, nil
}

// stale reports whether an answer is older than maxStale allows, or comes
// from a server that knows no leader. A streamed or cached answer is as
// fresh as the agent's view: its LastContact and KnownLeader say nothing.
func stale(meta *api.QueryMeta, maxStale time.Duration) bool {
	if meta.QueryBackend == api.QueryBackendStreaming || meta.CacheHit || meta.CacheAge > 0 {
		return false
	}
	return meta.LastContact > maxStale || !meta.KnownLeader
}

// localNode returns the node name of the agent, read once it succeeds.
func (c *Client) localNode() (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.selfNode == "" {
		name, err := c.api.Agent().NodeName()
		if err != nil {
			return "", fmt.Errorf("agent node name: %w", err)
		}
		c.selfNode = name
	}
	return c.selfNode, nil
}
