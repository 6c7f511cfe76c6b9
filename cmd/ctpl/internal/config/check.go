package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// checkYAML walks a YAML document against Config's keys before it is
// decoded, so that every problem is told in the operator's words: the file
// and line, the key's path (consul.retry.backoff, templates[2].perms,
// counting templates from 1) and what the value should be, with a hint
// for a misspelt key or a consul-template name. It returns one error per
// problem.
func checkYAML(root *yaml.Node, file string) []error {
	c := &checker{file: file}
	c.walk(root, reflect.TypeFor[Config](), "")
	return c.errs
}

type checker struct {
	file string
	errs []error
}

func (c *checker) fail(n *yaml.Node, path, msg string) {
	c.errs = append(c.errs, fmt.Errorf("%s:%d: %s: %s", c.file, n.Line, path, msg))
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	waitType     = reflect.TypeFor[WaitConfig]()
	unmarshaler  = reflect.TypeFor[yaml.Unmarshaler]()
)

func (c *checker) walk(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode && (t == waitType || !reflect.PointerTo(t).Implements(unmarshaler)):
		c.mapping(n, t, path)
	case t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshaler):
		c.fail(n, orRoot(path), "want keys (key: value lines)")
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if n.Kind != yaml.SequenceNode {
			c.fail(n, path, "want a list (lines starting with -)")
			return
		}
		for i, item := range n.Content {
			c.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i+1))
		}
	default:
		c.value(n, t, path)
	}
}

func orRoot(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

// value decodes a leaf to check it, and says what it should be.
func (c *checker) value(n *yaml.Node, t reflect.Type, path string) {
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	if reflect.PointerTo(t).Implements(unmarshaler) {
		c.fail(n, path, lineRe.ReplaceAllString(err.Error(), ""))
		return
	}
	c.fail(n, path, fmt.Sprintf("%s: %s", shown(n), want(t)))
}

// shown is a value as the operator wrote it, short.
func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return fmt.Sprintf("%q", v)
}

func want(t reflect.Type) string {
	switch {
	case t == durationType:
		return "want a duration such as 5s or 1m30s"
	case t.Kind() == reflect.Bool:
		return "want true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "want a whole number"
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		return "want a number"
	case t.Kind() == reflect.String:
		return "want a string"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "want a list of strings"
	}
	return "not a valid value here"
}

func (c *checker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			c.fail(k, p, unknownKey(k.Value, p, fields))
			continue
		}
		c.walk(v, f.Type, p)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var indexRe = regexp.MustCompile(`\[\d+\]`)

// unknownKey says why key is not one of fields: a consul-template name
// (with ctpl's, or why ctpl has none), or a likely typo.
func unknownKey(key, path string, fields map[string]reflect.StructField) string {
	ctPath := indexRe.ReplaceAllString(path, "")
	if rest, ok := strings.CutPrefix(ctPath, "templates."); ok {
		ctPath = "template." + rest
	}
	if path == "template" {
		ctPath = "template"
	}
	if k, ok := ctKeyIndex[ctPath]; ok {
		switch {
		case k.to != "" && k.to != ctPath:
			return fmt.Sprintf("not a ctpl key: %s is consul-template's name; ctpl's is %s", key, k.to)
		case k.to == "" && k.drop != nil:
			if _, msg := k.drop(&ctNode{scalar: true}); msg != "" {
				for _, p := range []string{"ignored: ", "not supported: ", "not a config key in ctpl: "} {
					msg = strings.TrimPrefix(msg, p)
				}
				return "not a ctpl key (consul-template's; remove it): " + msg
			}
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	msg := "not a ctpl key"
	if s := Suggest(key, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return msg
}

// yamlFields are t's keys: its fields' yaml names, inline structs'
// included.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || !f.IsExported():
		case opts == "inline":
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
		case name != "":
			out[name] = f
		}
	}
	return out
}

// yamlKeys are the top-level keys of ctpl's configuration.
var yamlKeys = func() map[string]bool {
	m := map[string]bool{}
	for k := range yamlFields(reflect.TypeFor[Config]()) {
		m[k] = true
	}
	return m
}()
