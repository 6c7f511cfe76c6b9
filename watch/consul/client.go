package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// Options configure a [Client]. Empty fields keep what api.DefaultConfig
// read from the CONSUL_* environment variables.
type Options struct {
	// Address is host:port or a URL of the Consul agent.
	Address string
	// Token and TokenFile give the ACL token; Token wins.
	Token, TokenFile string
	// MaxStale lets any server answer when its data is at most this old;
	// an answer staler than that is read again from the leader. 0 reads
	// from the leader always.
	MaxStale time.Duration
	// MaxConns caps the connections to the agent (0: no cap).
	MaxConns int
	// Untrusted says what to do with registry strings holding control
	// characters or invalid UTF-8 (default watch.UntrustedDrop).
	Untrusted watch.UntrustedPolicy
	// Logger receives warnings about untrusted strings and debug lines.
	Logger *slog.Logger
}

// Client serves watch queries from Consul.
type Client struct {
	api      *api.Client
	maxStale time.Duration
	policy   watch.UntrustedPolicy
	warnings warnings
	log      *slog.Logger

	selfMu   sync.Mutex
	selfNode string
}

// New returns a Client for the agent named by opts and the environment.
func New(opts Options) (*Client, error) {
	cfg := api.DefaultConfig()
	if opts.Address != "" {
		cfg.Address = opts.Address
	}
	if opts.Token != "" {
		cfg.Token = opts.Token
	} else if opts.TokenFile != "" {
		cfg.TokenFile = opts.TokenFile
	}
	if opts.MaxConns > 0 && cfg.Transport != nil {
		cfg.Transport.MaxConnsPerHost = opts.MaxConns
		cfg.Transport.MaxIdleConnsPerHost = opts.MaxConns
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	policy := opts.Untrusted
	if policy == "" {
		policy = watch.UntrustedDrop
	}
	cl := &Client{api: c, maxStale: opts.MaxStale, policy: policy, log: log}
	cl.warnings.c = cl
	return cl, nil
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
	return build(c, spec), nil
}

// options builds the request options for spec.
func (c *Client) options(ctx context.Context, spec watch.Spec, fo watch.FetchOptions) *api.QueryOptions {
	o := &api.QueryOptions{
		Datacenter:    spec.DC,
		Near:          spec.Near,
		Namespace:     spec.Namespace,
		Partition:     spec.Partition,
		Peer:          spec.Peer,
		SamenessGroup: spec.SamenessGroup,
		WaitIndex:     fo.Index,
		WaitTime:      fo.Wait,
		AllowStale:    c.maxStale > 0,
	}
	return o.WithContext(ctx)
}

// read runs get with stale reads allowed when configured, and again from the
// leader when the answering server was out of contact longer than MaxStale.
func read[T any](c *Client, ctx context.Context, spec watch.Spec, fo watch.FetchOptions,
	get func(*api.QueryOptions) (T, *api.QueryMeta, error)) (T, uint64, error) {
	opts := c.options(ctx, spec, fo)
	v, meta, err := get(opts)
	if err == nil && opts.AllowStale && meta.LastContact > c.maxStale {
		c.log.Debug("stale answer; reading from the leader", "query", spec.String(), "last_contact", meta.LastContact)
		opts.AllowStale = false
		v, meta, err = get(opts)
	}
	if err != nil {
		var zero T
		return zero, 0, err
	}
	return v, meta.LastIndex, nil
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
