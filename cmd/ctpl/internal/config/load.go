package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxConfigBytes bounds a configuration file.
const maxConfigBytes = 16 << 20

// LoadFile decodes the configuration at path over cfg: keys it names win,
// its templates are added to those already there. path is a ctpl YAML file,
// a consul-template HCL or JSON file, or a directory whose files load in
// lexical order (recursively, as consul-template reads one). Warnings about
// consul-template keys ctpl ignores are added to cfg.Warnings.
func LoadFile(cfg *Config, path string) error {
	files, err := configFiles(path)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := loadOne(cfg, f); err != nil {
			return err
		}
	}
	return nil
}

// configFiles lists the files of path: itself, or a directory's files in
// lexical order, recursively; symbolic links to directories are not
// followed.
func configFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 && !isDir(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("config: %s: the directory has no files", path)
	}
	return files, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func readConfig(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("config %s: larger than %d MiB", path, maxConfigBytes>>20)
	}
	return b, nil
}

func loadOne(cfg *Config, path string) error {
	b, err := readConfig(path)
	if err != nil {
		return err
	}
	if isConsulTemplate(path, b) {
		return loadCT(cfg, path, b)
	}
	if looksLikeHCL(b) {
		return fmt.Errorf("config %s: this is consul-template's HCL, not YAML: name the file .hcl to load it as "+
			"consul-template's, or convert it: ctpl convert %s > ctpl.yaml", path, path)
	}
	return decode(cfg, path, b)
}

// isConsulTemplate says whether the file at path is consul-template's: .hcl,
// .json without ctpl's own keys, or, without a YAML extension, HCL text.
func isConsulTemplate(path string, b []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return false
	case ".hcl":
		return true
	case ".json":
		var top map[string]json.RawMessage
		if json.Unmarshal(b, &top) != nil {
			return true // the HCL parser reports where
		}
		for k := range top {
			if _, ct := ctKeyIndex[k]; !ct && yamlKeys[k] {
				return false
			}
		}
		return true
	}
	return looksLikeHCL(b)
}

var hclLine = regexp.MustCompile(`^[A-Za-z_][\w-]*(\s*=|\s*\{|\s+"[^"]*"\s*\{)`)

// looksLikeHCL says whether the first line that is not blank or a comment
// is an HCL assignment or block.
func looksLikeHCL(b []byte) bool {
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		return hclLine.MatchString(line) || strings.HasPrefix(line, "/*")
	}
	return false
}

// loadCT loads a consul-template configuration: its keys become ctpl's,
// warnings are kept, errors returned one per line.
func loadCT(cfg *Config, path string, b []byte) error {
	tr, err := convertCT(path, b, cfg.Exec != nil)
	if err != nil {
		return err
	}
	warnings, errs := tr.split()
	cfg.Warnings = append(cfg.Warnings, warnings...)
	if len(errs) > 0 {
		return fmt.Errorf("consul-template keys that ctpl cannot honour (docs/migration.md says what to do):\n%s",
			strings.Join(errs, "\n"))
	}
	prependEnv(tr.doc, cfg.Exec)
	return decodeNode(cfg, path, tr.doc)
}

// convertCT parses and translates one consul-template file.
// execSeen says an earlier file configured exec.
func convertCT(path string, b []byte, execSeen bool) (*ctTranslation, error) {
	root, err := parseCT(b)
	if err != nil {
		return nil, fmt.Errorf("config %s:%s (HCL syntax)", path, err)
	}
	return translateCT(root, func(line int) string { return fmt.Sprintf("%s:%d", path, line) }, execSeen), nil
}

// decode decodes YAML bytes over cfg.
func decode(cfg *Config, path string, b []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config %s", withFile(path, err))
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if errs := checkYAML(root, path); len(errs) > 0 {
		return errors.Join(errs...)
	}
	return decodeNode(cfg, path, root)
}

// decodeNode decodes a checked YAML document over cfg.
func decodeNode(cfg *Config, path string, root *yaml.Node) error {
	prev := cfg.Templates
	cfg.Templates = nil
	err := root.Decode(cfg)
	placeTemplates(cfg.Templates, path, root)
	cfg.Templates = append(prev, cfg.Templates...)
	if err != nil {
		return fmt.Errorf("config %s", withFile(path, err))
	}
	return nil
}

var lineRe = regexp.MustCompile(`line (\d+): `)

// withFile rewrites yaml's "line N: msg" as "path:N: msg", one per line.
func withFile(path string, err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = lineRe.ReplaceAllString(m, path+":$1: ")
		}
		return ":\n" + strings.Join(msgs, "\n")
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if lineRe.MatchString(msg) {
		return lineRe.ReplaceAllString(msg, path+":$1: ")
	}
	return path + ": " + msg
}
