package config

import (
	"errors"
	"fmt"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// templatePlace is where a template was configured: its config file and
// line, or the -template flag.
type templatePlace struct {
	file string
	line int
}

func (p templatePlace) String() string {
	if p.file == "" {
		return "-template"
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

// placeTemplates records, for ts, the templates a file at path added, their
// place in it: the line of each item of its templates list.
func placeTemplates(ts []TemplateConfig, path string, root *yaml.Node) {
	for i := 0; root.Kind == yaml.MappingNode && i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "templates" || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for k, item := range root.Content[i+1].Content {
			if k < len(ts) {
				ts[k].place = templatePlace{file: path, line: item.Line}
			}
		}
	}
}

// cleanDestinations cleans every destination once ("a/../b/out" becomes
// "b/out"), so that the directory created, the staged file and the rename
// all use the same path, and rejects two templates writing the same file.
func (c *Config) cleanDestinations() error {
	var errs []error
	seen := make(map[string]templatePlace, len(c.Templates))
	for i := range c.Templates {
		t := &c.Templates[i]
		if t.Destination == "" {
			continue
		}
		t.Destination = filepath.Clean(t.Destination)
		if first, dup := seen[t.Destination]; dup {
			errs = append(errs, fmt.Errorf("%s: destination %s is also the destination of the template at %s: two templates cannot write one file",
				t.place, t.Destination, first))
			continue
		}
		seen[t.Destination] = t.place
	}
	return errors.Join(errs...)
}
