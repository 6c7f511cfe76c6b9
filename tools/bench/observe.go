package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// observer follows the files of one directory through inotify and keeps
// the latest content of each.
type observer struct {
	dir string
	w   *fsnotify.Watcher

	mu      sync.Mutex
	content map[string][]byte    // base name → "\n" + content
	at      map[string]time.Time // when each content was read
	changed chan struct{}        // closed at the next change
	done    chan struct{}
}

func newObserver(dir string) (*observer, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, err
	}
	o := &observer{dir: dir, w: w, content: map[string][]byte{}, at: map[string]time.Time{}, changed: make(chan struct{}), done: make(chan struct{})}
	go o.run()
	return o, nil
}

func (o *observer) run() {
	defer close(o.done)
	for {
		select {
		case ev, ok := <-o.w.Events:
			if !ok {
				return
			}
			name := filepath.Base(ev.Name)
			if name[0] == '.' || ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Rename) == 0 {
				continue
			}
			b, err := os.ReadFile(filepath.Join(o.dir, name))
			if err != nil {
				continue
			}
			o.mu.Lock()
			o.content[name] = append([]byte("\n"), b...)
			o.at[name] = time.Now()
			close(o.changed)
			o.changed = make(chan struct{})
			o.mu.Unlock()
		case _, ok := <-o.w.Errors:
			if !ok {
				return
			}
		}
	}
}

func (o *observer) close() {
	o.w.Close()
	<-o.done
}

// waitFor waits until pred holds for file's content and returns when it
// was seen, or false at the deadline.
func (o *observer) waitFor(file string, pred func([]byte) bool, deadline time.Time) (time.Time, bool) {
	for {
		o.mu.Lock()
		c, at, ch := o.content[file], o.at[file], o.changed
		o.mu.Unlock()
		if c != nil && pred(c) {
			return at, true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return time.Time{}, false
		}
		select {
		case <-ch:
		case <-time.After(d):
		}
	}
}

func hasLine(content []byte, line string) bool {
	return bytes.Contains(content, []byte("\n"+line+"\n"))
}
