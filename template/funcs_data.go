package template

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// dataFuncs are the data functions beyond the catalog, health and KV ones:
// datacenters, Connect CA data and local files.
func (t *Template) dataFuncs() map[string]any {
	return map[string]any{
		"datacenters": t.datacenters,
		"caRoots":     t.caRoots,
		"caLeaf":      t.caLeaf,
		"file":        t.file,
	}
}

// datacenters returns the names of every known datacenter, sorted; with
// true, those that cannot be reached are left out.
func (t *Template) datacenters(ignore ...bool) ([]string, error) {
	if len(ignore) > 1 {
		return []string{}, fmt.Errorf("datacenters: wrong number of arguments, expected 0 or 1, but got %d", len(ignore))
	}
	all := len(ignore) == 0 || !ignore[0]
	a, err := lookup[[]string](t, "datacenters", []string{strconv.FormatBool(all)}, func() (watch.Spec, error) {
		return watch.DatacentersSpec(!all), nil
	})
	return orEmpty(a.value), err
}

// caRoots returns the Connect CA root certificates; nil until they arrive.
// Arguments are accepted and ignored, as in consul-template.
func (t *Template) caRoots(...string) ([]*watch.CARoot, error) {
	a, err := lookup[[]*watch.CARoot](t, "caRoots", nil, func() (watch.Spec, error) { return watch.CARootsSpec(), nil })
	return a.value, err
}

// caLeaf returns a Connect leaf certificate for the service named by the
// first argument; nil until it arrives, and nil with no name.
func (t *Template) caLeaf(args ...string) (any, error) {
	if len(args) == 0 || args[0] == "" {
		return nil, nil
	}
	a, err := lookup[*watch.LeafCert](t, "caLeaf", args[:1], func() (watch.Spec, error) { return watch.ParseCALeaf(args[0]) })
	if err != nil || a.value == nil {
		return nil, err
	}
	return a.value, nil
}

// file returns the content of a local file, watched for changes. With a
// sandbox, a path that resolves outside it (also through a symlink) is an
// error, checked at every execution so a symlink changed later is caught.
func (t *Template) file(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	if err := inSandbox(t.opts.SandboxPath, path); err != nil {
		return "", err
	}
	a, err := lookup[string](t, "file", []string{path}, func() (watch.Spec, error) { return watch.ParseFile(path) })
	return a.value, err
}

// ErrOutsideSandbox is wrapped by the error of `file` for a path that
// resolves outside sandbox_path.
var ErrOutsideSandbox = errors.New("outside the sandbox")

// inSandbox checks that path, with every symlink followed, lies inside
// sandbox. A path that does not exist yet is judged by its longest existing
// ancestor, so a file may appear later but never through an escaping link.
func inSandbox(sandbox, path string) error {
	if sandbox == "" {
		return nil
	}
	root, err := filepath.Abs(sandbox)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return fmt.Errorf("file %q: sandbox_path: %w", path, err)
	}
	real, err := resolve(path)
	if err != nil {
		return fmt.Errorf("file %q: %w", path, err)
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("file %q resolves to %s: %w %s", path, real, ErrOutsideSandbox, root)
	}
	return nil
}

// resolve returns the absolute form of path with symlinks evaluated, as far
// as the path exists.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var rest []string
	for dir := abs; ; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || dir == filepath.Dir(dir) {
			return "", err
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}
