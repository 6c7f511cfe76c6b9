package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Conversion is consul-template configuration files written as one ctpl
// YAML file.
type Conversion struct {
	YAML     []byte
	Warnings []string // keys dropped that ctpl can run without
	Errors   []string // keys ctpl cannot honour: the YAML marks them NOT CONVERTED
}

// Convert reads the files (or directories, as -config does) in order and
// writes the equivalent ctpl YAML: later files win key by key, templates
// add up, as loading them would. Every key whose meaning changes or that is
// dropped has a comment. ctpl YAML files among them are taken as they are.
func Convert(paths ...string) (*Conversion, error) {
	out := &Conversion{}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	var sources []string
	for _, p := range paths {
		files, err := configFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			part, ct, err := convertOne(f, out, lookup(doc, "exec") != nil)
			if err != nil {
				return nil, err
			}
			merge(doc, part, "", ct)
			sources = append(sources, f)
		}
	}
	doc.HeadComment = "ctpl configuration converted by `ctpl convert` from " + strings.Join(sources, ", ") +
		".\nComments name consul-template's keys where ctpl's differ; see docs/migration.md."
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	out.YAML = b.Bytes()
	return out, nil
}

// convertOne reads one file as a YAML tree, and says whether it was
// consul-template's; execSeen says an earlier file configured exec.
func convertOne(path string, out *Conversion, execSeen bool) (*yaml.Node, bool, error) {
	b, err := readConfig(path)
	if err != nil {
		return nil, false, err
	}
	if !isConsulTemplate(path, b) {
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, false, fmt.Errorf("config %s", withFile(path, err))
		}
		if len(doc.Content) == 0 {
			return &yaml.Node{Kind: yaml.MappingNode}, false, nil
		}
		if errs := checkYAML(doc.Content[0], path); len(errs) > 0 {
			for _, e := range errs {
				out.Errors = append(out.Errors, e.Error())
			}
		}
		return doc.Content[0], false, nil
	}
	tr, err := convertCT(path, b, execSeen)
	if err != nil {
		return nil, true, err
	}
	warnings, errs := tr.split()
	out.Warnings, out.Errors = append(out.Warnings, warnings...), append(out.Errors, errs...)
	return tr.doc, true, nil
}

// merge puts src's keys (at path) over dst's: mappings merge key by key,
// templates lists add up, and so do a consul-template file's exec.env
// lists (ct); any other value replaces.
func merge(dst, src *yaml.Node, path string, ct bool) {
	if src.Kind != yaml.MappingNode || dst.Kind != yaml.MappingNode {
		return
	}
	if src.FootComment != "" {
		dst.FootComment = strings.TrimPrefix(dst.FootComment+"\n"+src.FootComment, "\n")
	}
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], src.Content[i+1]
		dk, dv := entry(dst, k.Value)
		p := strings.TrimPrefix(path+"."+k.Value, ".")
		adds := p == "templates" || ct && slices.Contains(envLists, strings.TrimPrefix(p, "exec.env."))
		switch {
		case dk == nil:
			dst.Content = append(dst.Content, k, v)
		case adds && dv.Kind == yaml.SequenceNode && v.Kind == yaml.SequenceNode:
			dv.Content = append(dv.Content, v.Content...)
		case dv.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			merge(dv, v, p, ct)
		default:
			*dk, dst.Content[indexOf(dst, dk)+1] = *k, v
		}
	}
}

func indexOf(m, key *yaml.Node) int {
	for i, n := range m.Content {
		if n == key {
			return i
		}
	}
	return -1
}
