package template

import (
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// consulFuncs are the data functions that read Consul.
func (t *Template) consulFuncs() map[string]any {
	return map[string]any{
		"service":      t.service,
		"services":     t.services,
		"nodes":        t.nodes,
		"node":         t.node,
		"key":          t.key,
		"keyOrDefault": t.keyOrDefault,
		"keyExists":    t.keyExists,
		"ls":           t.ls,
		"tree":         t.tree,
	}
}

// service returns the instances of a service: passing ones by default, or
// those matching the status filter given as further arguments.
func (t *Template) service(query string, status ...string) ([]*watch.HealthService, error) {
	spec, key, err := t.spec("service", append([]string{query}, status...), func() (watch.Spec, error) {
		return watch.ParseService(query, status...)
	})
	if err != nil {
		return nil, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return []*watch.HealthService{}, nil
	}
	return v.([]*watch.HealthService), nil
}

// services returns every service name with its tags.
func (t *Template) services(query ...string) ([]*watch.CatalogService, error) {
	q, err := oneOptional("services", query)
	if err != nil {
		return nil, err
	}
	spec, key, err := t.spec("services", query, func() (watch.Spec, error) {
		return watch.ParseCatalog(watch.KindCatalogServices, q)
	})
	if err != nil {
		return nil, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return []*watch.CatalogService{}, nil
	}
	return v.([]*watch.CatalogService), nil
}

// nodes returns every node of the catalog.
func (t *Template) nodes(query ...string) ([]*watch.Node, error) {
	q, err := oneOptional("nodes", query)
	if err != nil {
		return nil, err
	}
	spec, key, err := t.spec("nodes", query, func() (watch.Spec, error) {
		return watch.ParseCatalog(watch.KindCatalogNodes, q)
	})
	if err != nil {
		return nil, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return []*watch.Node{}, nil
	}
	return v.([]*watch.Node), nil
}

// node returns one node with its services; no argument means the agent's
// own node.
func (t *Template) node(query ...string) (*watch.NodeServices, error) {
	q, err := oneOptional("node", query)
	if err != nil {
		return nil, err
	}
	spec, key, err := t.spec("node", query, func() (watch.Spec, error) { return watch.ParseNode(q) })
	if err != nil {
		return nil, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return nil, nil
	}
	if ns := v.(*watch.NodeServices); ns != nil {
		return ns, nil
	}
	// No such node: consul-template returns an empty node (nil Node, no
	// services), which `with` takes as true.
	return &watch.NodeServices{}, nil
}

// kvGet looks up one key, reporting whether data arrived.
func (t *Template) kvGet(fn, query string) (watch.KVValue, watch.Spec, string, bool, error) {
	spec, key, err := t.spec(fn, []string{query}, func() (watch.Spec, error) {
		return watch.ParseKV(watch.KindKVGet, query)
	})
	if err != nil {
		return watch.KVValue{}, spec, key, false, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return watch.KVValue{}, spec, key, false, nil
	}
	return v.(watch.KVValue), spec, key, true, nil
}

// key returns a key's value; the template waits until the key exists.
func (t *Template) key(query string) (string, error) {
	v, spec, key, ok, err := t.kvGet("key", query)
	if err != nil {
		return "", err
	}
	if ok && !v.Exists {
		t.markMissing(spec, key)
	}
	return v.Value, nil
}

// keyOrDefault returns a key's value, or def when the key does not exist or
// its value is empty (consul-template treats both alike).
func (t *Template) keyOrDefault(query, def string) (string, error) {
	v, _, _, _, err := t.kvGet("key", query)
	if err != nil {
		return "", err
	}
	if !v.Exists || v.Value == "" {
		return def, nil
	}
	return v.Value, nil
}

// keyExists reports whether a key exists.
func (t *Template) keyExists(query string) (bool, error) {
	v, _, _, _, err := t.kvGet("key", query)
	return v.Exists, err
}

// list returns the pairs below a prefix.
func (t *Template) list(query string) ([]*watch.KeyPair, error) {
	spec, key, err := t.spec("list", []string{query}, func() (watch.Spec, error) {
		return watch.ParseKV(watch.KindKVList, query)
	})
	if err != nil {
		return nil, err
	}
	v, ok := t.recall(spec, key)
	if !ok {
		return nil, nil
	}
	return v.([]*watch.KeyPair), nil
}

// ls returns the top-level keys below a prefix, without folders.
func (t *Template) ls(query string) ([]*watch.KeyPair, error) {
	pairs, err := t.list(query)
	out := make([]*watch.KeyPair, 0, len(pairs))
	for _, p := range pairs {
		if !strings.Contains(p.Key, "/") {
			out = append(out, p)
		}
	}
	return out, err
}

// tree returns every key below a prefix, without folders.
func (t *Template) tree(query string) ([]*watch.KeyPair, error) {
	pairs, err := t.list(query)
	out := make([]*watch.KeyPair, 0, len(pairs))
	for _, p := range pairs {
		if !strings.HasSuffix(p.Key, "/") {
			out = append(out, p)
		}
	}
	return out, err
}
