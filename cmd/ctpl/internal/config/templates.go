package config

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
)

// BuildTemplates parses every configured template. A template that does not
// parse is an error naming its file, line and column.
func (c Config) BuildTemplates() ([]renderer.Template, error) {
	var (
		out  []renderer.Template
		errs []error
	)
	for _, tc := range c.Templates {
		t, err := buildTemplate(c, tc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

func buildTemplate(cfg Config, tc TemplateConfig) (renderer.Template, error) {
	t, err := templateSettings(cfg, tc)
	if err != nil {
		return renderer.Template{}, err
	}
	text := tc.Contents
	if tc.Source != "" {
		b, err := os.ReadFile(tc.Source)
		if err != nil {
			return renderer.Template{}, fmt.Errorf("template: %w", err)
		}
		text = string(b)
	}
	opts, err := languageOptions(cfg, tc)
	if err != nil {
		return renderer.Template{}, fmt.Errorf("%s: %w", t.Source, err)
	}
	if t.Tmpl, err = template.Parse(t.Source, text, opts); err != nil {
		return renderer.Template{}, err
	}
	return t, nil
}

// templateSettings is what tc configures of its template, all but the
// parsed text: the file, the command, the wait and the per-template keys.
func templateSettings(cfg Config, tc TemplateConfig) (renderer.Template, error) {
	name := "inline"
	if tc.Source != "" {
		name = tc.Source
	}
	wait := cfg.Wait
	if tc.Wait != nil {
		wait = *tc.Wait
	}
	if wait.Max == 0 {
		wait.Max = 4 * wait.Min
	}
	createDirs := true
	if tc.CreateDestDirs != nil {
		createDirs = *tc.CreateDestDirs
	}
	cmd := renderer.ParseCommand(tc.Command.Shell)
	if len(tc.Command.Args) > 0 {
		cmd = renderer.CommandFromList(tc.Command.Args)
	}
	file := renderer.DefaultFileOptions()
	file.Perms, file.Backup, file.CreateDestDirs = os.FileMode(tc.Perms), tc.Backup, createDirs
	var err error
	if file.UID, file.GID, err = owner(tc.User, tc.Group); err != nil {
		return renderer.Template{}, fmt.Errorf("%s: %w", name, err)
	}
	t := renderer.Template{
		Source:         name,
		Dest:           tc.Destination,
		File:           file,
		Command:        cmd,
		CommandTimeout: tc.CommandTimeout,
		Wait:           renderer.Wait{Min: wait.Min, Max: wait.Max},
	}
	if err := applySafety(cfg, tc, &t); err != nil {
		return renderer.Template{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := applyOps(cfg, tc, &t); err != nil {
		return renderer.Template{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := applyOperator(cfg, tc, &t); err != nil {
		return renderer.Template{}, fmt.Errorf("%s: %w", name, err)
	}
	applyDC(tc, &t)
	return t, nil
}

// owner resolves user and group (names or numbers) to IDs; empty is -1,
// which keeps the existing file's owner.
func owner(usr, group string) (uid, gid int, err error) {
	uid, gid = -1, -1
	if usr != "" {
		if uid, err = strconv.Atoi(usr); err != nil {
			u, lerr := user.Lookup(usr)
			if lerr != nil {
				return 0, 0, fmt.Errorf("user %q: %w", usr, lerr)
			}
			uid, _ = strconv.Atoi(u.Uid)
		}
	}
	if group != "" {
		if gid, err = strconv.Atoi(group); err != nil {
			g, lerr := user.LookupGroup(group)
			if lerr != nil {
				return 0, 0, fmt.Errorf("group %q: %w", group, lerr)
			}
			gid, _ = strconv.Atoi(g.Gid)
		}
	}
	return uid, gid, nil
}
