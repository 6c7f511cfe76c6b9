package template

import (
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// consulFuncs are the data functions that read Consul.
func (t *Template) consulFuncs() map[string]any {
	return map[string]any{
		"service":      t.service,
		"connect":      t.connect,
		"services":     t.services,
		"nodes":        t.nodes,
		"node":         t.node,
		"key":          t.key,
		"keyOrDefault": t.keyOrDefault,
		"keyExists":    t.keyExists,
		"ls":           t.ls,
		"tree":         t.tree,
		"safeLs":       t.safeLs,
		"safeTree":     t.safeTree,
	}
}

// service returns the instances of a service: passing ones by default, or
// those matching a status filter given in the query ("web|any") or as a
// second argument ("passing,warning"). An empty query returns no instances
// and asks for nothing, as in consul-template.
func (t *Template) service(args ...string) ([]*watch.HealthService, error) {
	return t.health("service", watch.ParseService, args)
}

// connect returns the Connect-capable instances of a service (its proxies
// and native instances), with the query grammar of service.
func (t *Template) connect(args ...string) ([]*watch.HealthService, error) {
	return t.health("connect", watch.ParseConnect, args)
}

func (t *Template) health(fn string, parse func(string, ...string) (watch.Spec, error), args []string) ([]*watch.HealthService, error) {
	if len(args) == 0 || args[0] == "" {
		return []*watch.HealthService{}, nil
	}
	a, err := lookup[[]*watch.HealthService](t, fn, args, func() (watch.Spec, error) { return withFilter(fn, args, parse) })
	if err != nil {
		return nil, err
	}
	return orEmpty(a.value), nil
}

// services returns every service name with its tags.
func (t *Template) services(query ...string) ([]*watch.CatalogService, error) {
	a, err := lookup[[]*watch.CatalogService](t, "services", query, func() (watch.Spec, error) {
		return withFilter("services", query, catalogParser(watch.KindCatalogServices, "services"))
	})
	if err != nil {
		return nil, err
	}
	return orEmpty(a.value), nil
}

// nodes returns every node of the catalog.
func (t *Template) nodes(query ...string) ([]*watch.Node, error) {
	a, err := lookup[[]*watch.Node](t, "nodes", query, func() (watch.Spec, error) {
		return withFilter("nodes", query, catalogParser(watch.KindCatalogNodes, "nodes"))
	})
	if err != nil {
		return nil, err
	}
	return orEmpty(a.value), nil
}

// node returns one node with its services; no argument means the agent's
// own node.
func (t *Template) node(query ...string) (*watch.NodeServices, error) {
	q, err := oneOptional("node", query)
	if err != nil {
		return nil, err
	}
	a, err := lookup[*watch.NodeServices](t, "node", query, func() (watch.Spec, error) { return watch.ParseNode(q) })
	if err != nil || !a.arrived {
		return nil, err
	}
	if a.value != nil {
		return a.value, nil
	}
	// No such node: consul-template returns an empty node (nil Node, no
	// services), which `with` takes as true.
	return &watch.NodeServices{}, nil
}

// kvGet looks up one key.
func (t *Template) kvGet(query string) (answer[watch.KVValue], error) {
	return lookup[watch.KVValue](t, "key", []string{query}, func() (watch.Spec, error) {
		return watch.ParseKV(watch.KindKVGet, query)
	})
}

// key returns a key's value; the template waits until the key exists.
func (t *Template) key(query string) (string, error) {
	if query == "" {
		return "", nil
	}
	a, err := t.kvGet(query)
	if err != nil {
		return "", err
	}
	if a.arrived && !a.value.Exists {
		t.markMissing(a.spec, a.key)
	}
	return a.value.Value, nil
}

// keyOrDefault returns a key's value, or def when the key does not exist or
// its value is empty (consul-template treats both alike).
func (t *Template) keyOrDefault(query, def string) (string, error) {
	if query == "" {
		return def, nil
	}
	a, err := t.kvGet(query)
	if err != nil {
		return "", err
	}
	if !a.value.Exists || a.value.Value == "" {
		return def, nil
	}
	return a.value.Value, nil
}

// keyExists reports whether a key exists.
func (t *Template) keyExists(query string) (bool, error) {
	if query == "" {
		return false, nil
	}
	a, err := t.kvGet(query)
	return a.value.Exists, err
}

// topLevel keeps the pairs directly below the prefix.
func topLevel(p *watch.KeyPair) bool { return p.Key != "" && !strings.Contains(p.Key, "/") }

// leaf keeps the pairs that are not folders.
func leaf(p *watch.KeyPair) bool { return p.Key != "" && !strings.HasSuffix(p.Key, "/") }

// kvSelect returns the pairs below a prefix that keep accepts. With safe,
// an empty result is not an answer: the template waits, as consul-template's
// safeLs and safeTree do, so a wiped prefix never renders an empty file.
func (t *Template) kvSelect(query string, keep func(*watch.KeyPair) bool, safe bool) ([]*watch.KeyPair, error) {
	out := []*watch.KeyPair{}
	if query == "" {
		return out, nil
	}
	a, err := lookup[[]*watch.KeyPair](t, "list", []string{query}, func() (watch.Spec, error) {
		return watch.ParseKV(watch.KindKVList, query)
	})
	if err != nil {
		return out, err
	}
	for _, p := range a.value {
		if keep(p) {
			out = append(out, p)
		}
	}
	if safe && len(out) == 0 {
		t.markMissing(a.spec, a.key)
	}
	return out, nil
}

// ls returns the top-level keys below a prefix, without folders.
func (t *Template) ls(query string) ([]*watch.KeyPair, error) {
	return t.kvSelect(query, topLevel, false)
}

// safeLs is ls, except that an empty result keeps the template waiting.
func (t *Template) safeLs(query string) ([]*watch.KeyPair, error) {
	return t.kvSelect(query, topLevel, true)
}

// tree returns every key below a prefix, without folders.
func (t *Template) tree(query string) ([]*watch.KeyPair, error) {
	return t.kvSelect(query, leaf, false)
}

// safeTree is tree, except that an empty result keeps the template waiting.
func (t *Template) safeTree(query string) ([]*watch.KeyPair, error) {
	return t.kvSelect(query, leaf, true)
}
