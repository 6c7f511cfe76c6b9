package file_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/file"
)

func TestFileQueryWakesOnChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{name: "write in place", change: func(t *testing.T, path string) { write(t, path, "two") }},
		{name: "rename over", change: func(t *testing.T, path string) {
			tmp := path + ".new"
			write(t, tmp, "two")
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.txt")
			write(t, path, "one")
			q, err := file.New().Query(watch.Spec{Kind: watch.KindFile, Name: path})
			if err != nil {
				t.Fatal(err)
			}
			first, err := q.Fetch(t.Context(), watch.FetchOptions{})
			if err != nil || first.Value != "one" {
				t.Fatalf("first read %v %v", first, err)
			}
			type answer struct {
				res watch.Result
				err error
			}
			got := make(chan answer, 1)
			go func() {
				// A write in place may be seen half done (truncated, then
				// written): follow the index until the new content shows.
				last := first
				for {
					res, err := q.Fetch(t.Context(), watch.FetchOptions{Index: last.Index, Wait: time.Minute})
					if err != nil || res.Value == "two" || res.Index <= last.Index {
						got <- answer{res, err}
						return
					}
					last = res
				}
			}()
			tc.change(t, path)
			select {
			case a := <-got:
				if a.err != nil || a.res.Value != "two" || a.res.Index <= first.Index {
					t.Fatalf("after the change: %+v %v", a.res, a.err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the blocking read did not wake on the change")
			}
		})
	}
}

func TestFileQueryWaitAndMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data.txt")
	write(t, path, "same")
	q, _ := file.New().Query(watch.Spec{Kind: watch.KindFile, Name: path})
	first, _ := q.Fetch(t.Context(), watch.FetchOptions{})
	res, err := q.Fetch(t.Context(), watch.FetchOptions{Index: first.Index, Wait: 20 * time.Millisecond})
	if err != nil || res.Index != first.Index {
		t.Fatalf("an idle wait changed the index: %+v %v", res, err)
	}
	missing, _ := file.New().Query(watch.Spec{Kind: watch.KindFile, Name: filepath.Join(dir, "nope")})
	if _, err := missing.Fetch(context.Background(), watch.FetchOptions{}); err == nil {
		t.Fatal("a missing file read without error")
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
