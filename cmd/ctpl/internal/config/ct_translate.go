package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Issue is one message about a consul-template key: a warning (ctpl runs
// without it) or an error (ctpl refuses the configuration).
type Issue struct {
	Warning bool
	Where   string // "file:line", or the flag's name
	Path    string // the key's path, e.g. consul.retry.attempts
	Msg     string
}

func (i Issue) String() string {
	if i.Where == "" {
		return i.Path + ": " + i.Msg
	}
	return i.Where + ": " + i.Path + ": " + i.Msg
}

// ctTranslation is a consul-template configuration in ctpl's terms: the
// YAML document it becomes and what could not be carried over.
type ctTranslation struct {
	doc     *yaml.Node // a mapping: ctpl's keys
	issues  []Issue
	where   func(line int) string
	pending map[*yaml.Node][]string // comments on dropped keys, for the next key of a mapping
	// execSeen says an earlier file configured exec: consul-template's
	// defaults were carried over then, and this file's exec block merges
	// over that one key by key.
	execSeen bool
}

// translateCT turns a consul-template configuration into ctpl's YAML keys.
// where names the place of a line for messages.
func translateCT(root *ctNode, where func(line int) string, execSeen bool) *ctTranslation {
	t := &ctTranslation{doc: &yaml.Node{Kind: yaml.MappingNode}, where: where, pending: map[*yaml.Node][]string{},
		execSeen: execSeen}
	t.block(root, "", t.doc, "")
	for m, notes := range t.pending {
		m.FootComment = strings.Join(notes, "\n")
	}
	return t
}

// dropped notes a key that is not carried over, for the converted YAML.
func (t *ctTranslation) dropped(out *yaml.Node, base, path string, v *ctNode, sev severity, msg string) {
	note := "consul-template's " + path + " = " + shortValue(v)
	switch sev {
	case sevNone:
		note += ": dropped: ctpl behaves so without it"
	case sevWarn:
		note += ": " + msg
	case sevError:
		note = "NOT CONVERTED: " + note + ": " + msg
	}
	m := t.target(out, base, path)
	t.pending[m] = append(t.pending[m], note)
}

func shortValue(v *ctNode) string {
	if v.scalar == nil {
		return "{…}"
	}
	if s, ok := v.scalar.(string); ok {
		return strconv.Quote(s)
	}
	return scalarText(v)
}

// set puts v at path in out (see set), with the comments of keys dropped
// before it in each mapping along the path.
// target is the mapping where a dropped key's comment goes: its block's
// counterpart in ctpl's keys.
func (t *ctTranslation) target(out *yaml.Node, base, path string) *yaml.Node {
	for p := parentOf(path); p != ""; p = parentOf(p) {
		k := ctKeyIndex[p]
		switch {
		case k == nil || k.to == "":
			continue
		case k.to == base || p == "template":
			return out
		}
		m := out
		for _, part := range strings.Split(rel(k.to, base), ".") {
			m = mapping(m, part, yaml.MappingNode)
		}
		return m
	}
	return out
}

func parentOf(path string) string {
	i := strings.LastIndex(path, ".")
	return path[:max(i, 0)]
}

// entry is the key and value of key in the mapping m.
// split returns the warnings and the errors, one line each.
func (t *ctTranslation) split() (warnings, errs []string) {
	for _, is := range t.issues {
		if is.Warning {
			warnings = append(warnings, is.String())
		} else {
			errs = append(errs, is.String())
		}
	}
	return warnings, errs
}

func (t *ctTranslation) issue(sev severity, line int, path, msg string) {
	if sev == sevNone {
		return
	}
	t.issues = append(t.issues, Issue{Warning: sev == sevWarn, Where: t.where(line), Path: path, Msg: msg})
}

// block translates the keys of a block at prefix (a consul-template path
// such as "consul." or "template.") into out, the ctpl mapping its keys
// land in (paths relative to base).
func (t *ctTranslation) block(n *ctNode, prefix string, out *yaml.Node, base string) {
	for _, f := range lastOfEach(n.fields, prefix) {
		path := prefix + f.key
		k, ok := ctKeyIndex[path]
		if !ok {
			t.issue(sevError, f.line, path, unknownCTKey(path))
			continue
		}
		t.key(k, f, path, out, base)
	}
	if prefix == "consul.ssl." {
		t.impliedSSL(n, out, base)
	}
}

// lastOfEach keeps the last occurrence of each key (consul-template merges
// repeated blocks so: the last wins), except template blocks, which add up.
func lastOfEach(fields []ctField, prefix string) []ctField {
	last := map[string]int{}
	for i, f := range fields {
		last[f.key] = i
	}
	var out []ctField
	for i, f := range fields {
		if last[f.key] == i || (prefix == "" && f.key == "template") {
			out = append(out, f)
		}
	}
	return out
}

// ctRemovedKeys are top-level keys of consul-template before v0.19, which
// configuration generators still write, and where their settings went.
var ctRemovedKeys = map[string]string{
	"token": "consul { token = … }", "retry": "consul { retry { backoff = … } }",
	"ssl": "consul { ssl { … } }", "auth": "consul { auth { … } }",
}

func unknownCTKey(path string) string {
	i := strings.LastIndex(path, ".")
	parent, key := path[:max(i, 0)], path[i+1:]
	var siblings []string
	for _, k := range ctKeys {
		if j := strings.LastIndex(k.ct, "."); k.ct[:max(j, 0)] == parent {
			siblings = append(siblings, k.ct[j+1:])
		}
	}
	msg := "not a consul-template key"
	if now, ok := ctRemovedKeys[path]; ok {
		return "consul-template's key before v0.19, which v0.41.1 refuses too: write " + now + " instead"
	}
	if s := Suggest(key, siblings); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return msg
}

func (t *ctTranslation) key(k *ctKey, f ctField, path string, out *yaml.Node, base string) {
	v := f.val
	if k.to == "" && k.kind != kBlock {
		if err := checkKind(k.kind, v); err != nil {
			t.issue(sevError, f.line, path, err.Error())
			return
		}
		sev, msg := sevNone, ""
		if k.drop != nil {
			sev, msg = k.drop(v)
		}
		t.issue(sev, f.line, path, msg)
		t.dropped(out, base, path, v, sev, msg)
		return
	}
	switch {
	case path == "template":
		t.templates(f)
		return
	case path == "exec":
		t.exec(f, out)
		return
	case path == "template.exec":
		if v.isBlock() {
			t.block(lastBlock(v), "template.exec.", out, base)
		}
		return
	case path == "consul" && v.scalar != nil:
		// consul-template still reads its old form, consul = "host:port".
		y, err := yamlValue(kStr, v)
		if err != nil {
			t.issue(sevError, f.line, path, "want a block of keys, or the agent's address")
			return
		}
		t.set(out, "consul.address", y, "consul-template: consul = \"…\", the old form of consul { address = … }")
		return
	case k.kind == kBlock:
		b := lastBlock(v)
		if b == nil {
			t.issue(sevError, f.line, path, "want a block of keys")
			return
		}
		t.block(b, path+".", out, base)
		return
	}
	y, err := yamlValue(k.kind, v)
	if err != nil {
		t.issue(sevError, f.line, path, err.Error())
		return
	}
	if d, _ := time.ParseDuration(y.Value); path == "consul.retry.max_backoff" && d == 0 {
		t.issue(sevWarn, f.line, path, "0 (no cap) is ctpl's default cap of 5s: ctpl caps every backoff; "+
			"see docs/migration.md#retry")
	}
	if k.kind == kCommand {
		if msg := commaCommand(v); msg != "" {
			t.issue(sevWarn, f.line, path, msg)
		}
	}
	if path == "log_level" && CTLogLevel(y.Value) != y.Value {
		y.LineComment = fmt.Sprintf("consul-template's %q", y.Value)
		y.Value = CTLogLevel(y.Value)
	}
	if k.note != "" {
		y.LineComment = k.note
	}
	if prev := lookup(out, rel(k.to, base)); k.kind == kStrs && prev != nil && prev.Kind == yaml.SequenceNode {
		// whitelist and allowlist (blacklist and denylist) in one block:
		// consul-template applies both lists.
		y.Content = append(slices.Clone(prev.Content), y.Content...)
	}
	t.set(out, rel(k.to, base), y, renamedComment(path, k.to, base))
}

// renamedComment is the comment on a key whose name changes.
func renamedComment(ctPath, to, base string) string {
	from := ctPath
	if base == "templates" {
		from = strings.TrimPrefix(from, "template.")
	}
	if from == to {
		return ""
	}
	return "consul-template: " + ctPath
}

// rel is path relative to base ("exec.splay" in "exec" is "splay").
func rel(path, base string) string {
	if base == "" || base == "templates" {
		return path
	}
	return strings.TrimPrefix(path, base+".")
}

// lastBlock is v, or the last block of a list of blocks (JSON's form).
func lastBlock(v *ctNode) *ctNode {
	if v.isList {
		if len(v.list) == 0 {
			return &ctNode{line: v.line}
		}
		v = v.list[len(v.list)-1]
	}
	if !v.isBlock() {
		return nil
	}
	return v
}

// templates adds each template block of f.
func (t *ctTranslation) templates(f ctField) {
	blocks := []*ctNode{f.val}
	if f.val.isList {
		blocks = f.val.list
	}
	seq := mapping(t.doc, "templates", yaml.SequenceNode)
	for _, b := range blocks {
		if !b.isBlock() {
			t.issue(sevError, b.line, "template", "want a block of keys")
			continue
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Line: b.line}
		t.block(b, "template.", m, "templates")
		seq.Content = append(seq.Content, m)
	}
}

// exec translates the exec block, with consul-template's defaults where
// ctpl's differ: the child is stopped with SIGINT, and its exit ends the
// run.
func (t *ctTranslation) exec(f ctField, out *yaml.Node) {
	b := lastBlock(f.val)
	if b == nil {
		t.issue(sevError, f.line, "exec", "want a block of keys")
		return
	}
	if e := b.get("enabled"); e != nil && off(e) {
		return
	}
	m := mapping(out, "exec", yaml.MappingNode)
	t.block(b, "exec.", m, "exec")
	if t.execSeen {
		return
	}
	if b.get("kill_signal") == nil {
		t.set(m, "kill_signal", str("SIGINT"), "consul-template's default; ctpl's is SIGTERM")
	}
	t.set(m, "on_exit", str("exit"), "consul-template exits when the child does; ctpl's default restarts it")
}

// impliedSSL enables TLS when any ssl key is given, as consul-template does.
func (t *ctTranslation) impliedSSL(n *ctNode, out *yaml.Node, base string) {
	if n.get("enabled") != nil || len(n.fields) == 0 {
		return
	}
	t.set(out, rel("consul.ssl.enabled", base), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"},
		"consul-template enables TLS when any ssl key is set; ctpl needs enabled")
}

func (n *ctNode) get(key string) *ctNode {
	var v *ctNode
	for _, f := range n.fields {
		if f.key == key {
			v = f.val
		}
	}
	return v
}

// scalarText is a scalar's value as text ("" for blocks and lists).
// checkKind says whether v has the shape of kind.
// yamlValue is v as ctpl's YAML value for a key of kind.
// stringList reads a list of strings, or one string of comma-separated
// items as consul-template does.
// set puts key: v into the mapping m at a dotted path, replacing an
// earlier value; comment goes on the key.
// mapping returns the value of key in m, adding one of kind if missing.
