package file

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ctpl/ctpl/watch"
)

// Source serves file queries.
type Source struct{}

// New returns a Source.
func New() *Source { return &Source{} }

// Kinds returns the kinds of query the source serves.
func (*Source) Kinds() []watch.Kind { return []watch.Kind{watch.KindFile} }

// Query returns the query for spec, whose Name is the file's path.
func (*Source) Query(spec watch.Spec) (watch.Query, error) {
	if spec.Kind != watch.KindFile || spec.Name == "" {
		return nil, fmt.Errorf("file: bad spec %s", spec)
	}
	path, err := filepath.Abs(spec.Name)
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", spec.Name, err)
	}
	return &query{path: path}, nil
}

// query is one watched file. Its fields belong to the one loop calling
// Fetch.
type query struct {
	path  string
	last  []byte
	index uint64
}

// Fetch returns the file's content. With an index it first waits until the
// content differs from what it returned last, the wait passes or ctx ends.
func (q *query) Fetch(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
	if fo.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fo.Timeout)
		defer cancel()
	}
	if fo.Index == 0 || fo.Index != q.index {
		return q.read()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return watch.Result{}, fmt.Errorf("file %s: %w", q.path, err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(q.path)); err != nil {
		return watch.Result{}, fmt.Errorf("file %s: watch: %w", q.path, err)
	}
	// A change between the last read and the watch is caught here.
	if res, err := q.read(); err != nil || res.Index != fo.Index {
		return res, err
	}
	timeout := time.NewTimer(fo.Wait)
	defer timeout.Stop()
	for {
		select {
		case ev := <-w.Events:
			if filepath.Clean(ev.Name) != q.path {
				continue
			}
			if res, err := q.read(); err != nil || res.Index != fo.Index {
				return res, err
			}
		case err := <-w.Errors:
			return watch.Result{}, fmt.Errorf("file %s: watch: %w", q.path, err)
		case <-timeout.C:
			return watch.Result{Value: string(q.last), Index: q.index}, nil
		case <-ctx.Done():
			return watch.Result{}, ctx.Err()
		}
	}
}

// read reads the file, moving the index on when the content changed.
func (q *query) read() (watch.Result, error) {
	b, err := os.ReadFile(q.path)
	if err != nil {
		return watch.Result{}, fmt.Errorf("file: %w", err)
	}
	if q.index == 0 || !bytes.Equal(b, q.last) {
		q.last = b
		q.index++
	}
	return watch.Result{Value: string(q.last), Index: q.index}, nil
}
