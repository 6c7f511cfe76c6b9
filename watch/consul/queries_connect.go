package consul

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// datacentersPoll is how often the datacenter list, which Consul cannot
// block on, is read again.
const datacentersPoll = 15 * time.Second

// datacenters reads /v1/catalog/datacenters, which has no blocking form: a
// request with an index waits datacentersPoll (or the wait, if shorter)
// before reading. With IgnoreInaccessible, datacenters that do not answer a
// cheap query are left out.
func (c *Client) datacenters(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		if fo.Index > 0 {
			t := time.NewTimer(min(datacentersPoll, max(fo.Wait, time.Second)))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return watch.Result{}, ctx.Err()
			}
		}
		dcs, err := c.api.Catalog().Datacenters()
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog datacenters: %w", err)
		}
		if spec.Name == watch.IgnoreInaccessible {
			dcs = slices.DeleteFunc(dcs, func(dc string) bool {
				_, _, err := c.api.Catalog().Services((&api.QueryOptions{Datacenter: dc}).WithContext(ctx))
				return err != nil
			})
		}
		slices.Sort(dcs)
		return watch.Result{Value: dcs, Index: fo.Index + 1}, nil
	}
}

// caRoots reads /v1/agent/connect/ca/roots.
func (c *Client) caRoots(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		list, ans, err := read(c, ctx, spec, fo, c.api.Agent().ConnectCARoots)
		if err != nil {
			return watch.Result{}, fmt.Errorf("connect ca roots: %w", err)
		}
		var out []*watch.CARoot
		if list != nil {
			for _, r := range list.Roots {
				out = append(out, &watch.CARoot{
					ID: r.ID, Name: r.Name, RootCertPEM: r.RootCertPEM, Active: r.Active,
					CreateIndex: r.CreateIndex, ModifyIndex: r.ModifyIndex,
				})
			}
		}
		return c.result(spec, out, ans), nil
	}
}

// caLeaf reads /v1/agent/connect/ca/leaf/:service.
func (c *Client) caLeaf(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		leaf, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (*api.LeafCert, *api.QueryMeta, error) {
			return c.api.Agent().ConnectCALeaf(spec.Name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("connect ca leaf %q: %w", spec.Name, err)
		}
		if leaf == nil {
			return c.result(spec, (*watch.LeafCert)(nil), ans), nil
		}
		return watch.Result{Value: &watch.LeafCert{
			SerialNumber: leaf.SerialNumber, CertPEM: leaf.CertPEM, PrivateKeyPEM: leaf.PrivateKeyPEM,
			Service: leaf.Service, ServiceURI: leaf.ServiceURI, ValidAfter: leaf.ValidAfter,
			ValidBefore: leaf.ValidBefore, CreateIndex: leaf.CreateIndex, ModifyIndex: leaf.ModifyIndex,
		}, Index: ans.index}, nil
	}
}
