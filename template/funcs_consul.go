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
	spec, key, err := t.spec(fn, args, func() (watch.Spec, error) { return parse(args[0], args[1:]...) })
	if err != nil {
		return nil, err
	}
	v, _ := t.recall(spec, key)
	if list, ok := v.([]*watch.HealthService); ok && list != nil {
		return list, nil
	}
	return []*watch.HealthService{}, nil
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
func (t *Template) kvGet(fn, query string) (watch.KVValue, *watch.Spec, string, bool, error) {
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
	kv, _ := v.(watch.KVValue)
	return kv, spec, key, true, nil
}

// key returns a key's value; the template waits until the key exists.
func (t *Template) key(query string) (string, error) {
	if query == "" {
		return "", nil
	}
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
	if query == "" {
		return def, nil
	}
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
	if query == "" {
		return false, nil
	}
	v, _, _, _, err := t.kvGet("key", query)
	return v.Exists, err
}

// list returns the pairs below a prefix and the query's spec and key.
func (t *Template) list(query string) ([]*watch.KeyPair, *watch.Spec, string, error) {
	spec, key, err := t.spec("list", []string{query}, func() (watch.Spec, error) {
		return watch.ParseKV(watch.KindKVList, query)
	})
	if err != nil {
		return nil, spec, key, err
	}
	v, _ := t.recall(spec, key)
	pairs, _ := v.([]*watch.KeyPair)
	return pairs, spec, key, nil
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
	pairs, spec, key, err := t.list(query)
	if err != nil {
		return out, err
	}
	for _, p := range pairs {
		if keep(p) {
			out = append(out, p)
		}
	}
	if safe && len(out) == 0 {
		t.markMissing(spec, key)
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
