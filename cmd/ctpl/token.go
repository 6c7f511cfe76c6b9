package main

import (
	"context"
	"log/slog"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/file"
)

// tokens keeps the Consul client's ACL token in step with its token file
// (consul.token_file or CONSUL_HTTP_TOKEN_FILE): a rotated token takes
// effect without a restart, and every query is read again under it, since
// what a token may see changes without any index moving.
type tokens struct {
	cc  *consul.Client
	w   *watch.Watcher
	log *slog.Logger
}

// follow watches the token file until ctx ends; without a token file it
// returns at once.
func (t tokens) follow(ctx context.Context) {
	path := t.cc.TokenFile()
	if path == "" {
		return
	}
	fw := watch.New(ctx, file.New(), watch.Options{Logger: t.log})
	defer fw.Close()
	if err := fw.Watch(watch.Spec{Kind: watch.KindFile, Name: path}); err != nil {
		t.log.Error("cannot watch the token file; SIGHUP reads it again", "error", err)
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-fw.Updates():
			if s, ok := u.Value.(string); ok && u.Err == nil {
				t.use(t.cc.SetToken(s))
			}
		}
	}
}

// reload reads the token file again, as on SIGHUP.
func (t tokens) reload() {
	changed, err := t.cc.ReloadToken()
	if err != nil {
		t.log.Error("cannot read the token file; keeping the token in use", "error", err)
		return
	}
	t.use(changed)
}

// use reads everything again when the token changed.
func (t tokens) use(changed bool) {
	if changed {
		t.log.Info("ACL token changed; reading every query again with it", "token_file", t.cc.TokenFile())
		t.w.Refresh()
	}
}
