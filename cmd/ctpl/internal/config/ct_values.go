package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The values of consul-template's keys as ctpl's YAML values, and the
// small YAML tree helpers the translation builds with.

func (t *ctTranslation) set(out *yaml.Node, path string, v *yaml.Node, comment string) {
	set(out, path, v, comment)
	m := out
	for _, part := range strings.Split(path, ".") {
		key, val := entry(m, part)
		if key == nil {
			return
		}
		if notes := t.pending[m]; len(notes) > 0 {
			delete(t.pending, m)
			key.HeadComment = strings.TrimSuffix(strings.Join(append(notes, key.HeadComment), "\n"), "\n")
		}
		m = val
	}
}

// lookup is the value at a dotted path of the mapping m, or nil.
func lookup(m *yaml.Node, path string) *yaml.Node {
	for _, part := range strings.Split(path, ".") {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		_, m = entry(m, part)
	}
	return m
}

// envLists are the exec.env keys whose lists consul-template appends when
// it merges configuration files and flags.
var envLists = []string{"custom", "allowlist", "denylist"}

// prependEnv puts the earlier exec.env lists before those doc sets, as
// consul-template merges them.
func prependEnv(doc *yaml.Node, exec *ExecConfig) {
	env := lookup(doc, "exec.env")
	if exec == nil || env == nil {
		return
	}
	earlier := map[string][]string{"custom": exec.Env.Custom, "allowlist": exec.Env.Allowlist, "denylist": exec.Env.Denylist}
	for _, key := range envLists {
		seq := lookup(env, key)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		var before []*yaml.Node
		for _, s := range earlier[key] {
			before = append(before, str(s))
		}
		seq.Content = append(before, seq.Content...)
	}
}

func entry(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func scalarText(v *ctNode) string {
	switch s := v.scalar.(type) {
	case string:
		return s
	case nil:
		return ""
	default:
		return fmt.Sprint(s)
	}
}

func checkKind(kind valueKind, v *ctNode) error {
	if kind == kAny || kind == kBlock {
		return nil
	}
	_, err := yamlValue(kind, v)
	return err
}

func yamlValue(kind valueKind, v *ctNode) (*yaml.Node, error) {
	switch kind {
	case kStr:
		if s, ok := v.scalar.(string); ok {
			return str(s), nil
		}
		return nil, fmt.Errorf("want a string")
	case kBool:
		return boolValue(v)
	case kInt:
		if i, ok := v.scalar.(int64); ok {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(i, 10)}, nil
		}
		return nil, fmt.Errorf("want a whole number")
	case kDur:
		if n, ok := v.scalar.(int64); ok && n == 0 {
			return str("0s"), nil // consul-template reads a number as nanoseconds: 0 is the one that makes sense
		}
		s, ok := v.scalar.(string)
		if _, err := time.ParseDuration(s); !ok || err != nil {
			return nil, fmt.Errorf("%s: want a duration such as 5s", valueText(v))
		}
		return str(s), nil
	case kSignal:
		s, _ := v.scalar.(string)
		if _, err := ParseSignal(s); err != nil || v.scalar == nil {
			return nil, fmt.Errorf("%s: want a signal such as SIGHUP", valueText(v))
		}
		return str(s), nil
	case kStrs:
		return stringList(v)
	case kWait:
		return waitValue(v)
	case kPerms:
		return permsValue(v)
	case kCommand:
		return commandValue(v)
	}
	return nil, fmt.Errorf("unexpected value")
}

// commandValue is a command as consul-template runs it: a string is split
// at commas into a list (its decoder does so), and a list of one string
// with spaces runs through sh -c, as a string does.
func commandValue(v *ctNode) (*yaml.Node, error) {
	if s, ok := v.scalar.(string); ok {
		if parts := strings.Split(s, ","); len(parts) > 1 {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, p := range parts {
				seq.Content = append(seq.Content, str(p))
			}
			return seq, nil
		}
		return str(s), nil
	}
	seq, err := stringList(v)
	if err != nil {
		return nil, err
	}
	if len(seq.Content) == 1 && len(strings.Fields(seq.Content[0].Value)) > 1 {
		return seq.Content[0], nil
	}
	return seq, nil
}

// commaCommand is the warning for a command string consul-template splits
// at commas.
func commaCommand(v *ctNode) string {
	s, ok := v.scalar.(string)
	if !ok || !strings.Contains(s, ",") {
		return ""
	}
	parts := strings.Split(s, ",")
	return fmt.Sprintf("consul-template splits a command string at its commas and runs %q with the arguments %q "+
		"(no shell); ctpl runs the same: write the command as a list to say so, or without commas; "+
		"see docs/migration.md#commands", parts[0], parts[1:])
}

func valueText(v *ctNode) string {
	if v.scalar == nil {
		return "a block or list"
	}
	return strconv.Quote(scalarText(v))
}

func boolValue(v *ctNode) (*yaml.Node, error) {
	b, ok := v.scalar.(bool)
	if s, isStr := v.scalar.(string); isStr {
		var err error
		b, err = strconv.ParseBool(s)
		ok = err == nil
	}
	if !ok {
		return nil, fmt.Errorf("%s: want true or false", valueText(v))
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}, nil
}

func stringList(v *ctNode) (*yaml.Node, error) {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	if s, ok := v.scalar.(string); ok {
		if s != "" {
			for _, p := range strings.Split(s, ",") {
				seq.Content = append(seq.Content, str(p))
			}
		}
		return seq, nil
	}
	if !v.isList {
		return nil, fmt.Errorf("%s: want a list of strings", valueText(v))
	}
	for _, e := range v.list {
		s, ok := e.scalar.(string)
		if !ok {
			return nil, fmt.Errorf("want a list of strings")
		}
		seq.Content = append(seq.Content, str(s))
	}
	return seq, nil
}

func waitValue(v *ctNode) (*yaml.Node, error) {
	if s, ok := v.scalar.(string); ok {
		if _, err := ParseWait(s); err != nil {
			return nil, fmt.Errorf("%w: want min:max such as 2s:10s", err)
		}
		return str(s), nil
	}
	b := lastBlock(v)
	if b == nil {
		return nil, fmt.Errorf("%s: want min:max such as \"2s:10s\" or a block with min and max", valueText(v))
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, f := range lastOfEach(b.fields, "wait.") {
		if f.key != "min" && f.key != "max" {
			msg := "not a key of wait: want min and max"
			if f.key == "enabled" {
				continue // consul-template's wait has it, unused
			}
			return nil, fmt.Errorf("%s: %s", f.key, msg)
		}
		y, err := yamlValue(kDur, f.val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		set(m, f.key, y, "")
	}
	return m, nil
}

func permsValue(v *ctNode) (*yaml.Node, error) {
	var mode int64
	switch p := v.scalar.(type) {
	case int64:
		mode = p
	case string:
		m, err := parseMode(p)
		if err != nil {
			return nil, err
		}
		mode = int64(m)
	default:
		return nil, fmt.Errorf("%s: want a file mode such as 0644", valueText(v))
	}
	if mode < 0 || mode > 0o7777 {
		return nil, fmt.Errorf("%s: want a file mode such as 0644", valueText(v))
	}
	return str(fmt.Sprintf("%04o", mode)), nil
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func set(m *yaml.Node, path string, v *yaml.Node, comment string) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		m = mapping(m, p, yaml.MappingNode)
	}
	key := parts[len(parts)-1]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			if comment != "" {
				m.Content[i].HeadComment = comment
			}
			return
		}
	}
	k := str(key)
	k.Tag = ""
	k.HeadComment = comment
	m.Content = append(m.Content, k, v)
}

func mapping(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == kind {
			return m.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: kind}
	k := str(key)
	k.Tag = ""
	m.Content = append(m.Content, k, v)
	return v
}
