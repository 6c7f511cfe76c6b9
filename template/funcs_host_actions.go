package template

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PluginTimeout bounds one run of a `plugin` command.
const PluginTimeout = 30 * time.Second

// hostActionFuncs act on the host. They are listed in OptIn: a template
// may call them only when Options.Allow names them.
// With Options.Inert they do nothing: plugin returns "" and writeToFile
// writes nothing.
func (t *Template) hostActionFuncs() map[string]any {
	if t.opts.Inert {
		return map[string]any{
			"plugin":      func(string, ...string) (string, error) { return "", nil },
			"writeToFile": func(string, string, string, string, ...string) (string, error) { return "", nil },
		}
	}
	return map[string]any{
		"plugin":      plugin,
		"writeToFile": writeToFile,
	}
}

// plugin runs the command name with the non-blank arguments, trimmed, and
// returns its standard output without surrounding white space. The command
// runs without a shell and is killed after PluginTimeout.
func plugin(name string, args ...string) (string, error) {
	if name == "" {
		return "", nil
	}
	var argv []string
	for _, a := range args {
		if a = strings.TrimSpace(a); a != "" {
			argv = append(argv, a)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), PluginTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("plugin %q: did not finish in %s", name, PluginTimeout)
		}
		return "", fmt.Errorf("plugin %q: %w (stderr: %q)", name, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// writeToFile writes its last argument to path with the octal permissions
// perms, owned by user and group (names or numeric IDs; "" keeps the
// process's), as in consul-template:
//
//	{{ key "k" | writeToFile "/path" "" "" "0644" }}
//	{{ key "k" | writeToFile "/path" "" "" "0644" "append,newline" }}
//
// It returns "", so it prints nothing.
func writeToFile(path, owner, group, perms string, args ...string) (string, error) {
	if len(args) == 0 || len(args) > 2 {
		return "", fmt.Errorf("writeToFile: want path, user, group, permissions, [flags,] content")
	}
	flags, content := "", args[len(args)-1]
	if len(args) == 2 {
		flags = args[0]
	}
	p, err := strconv.ParseUint(perms, 8, 32)
	if err != nil {
		return "", fmt.Errorf("writeToFile %s: permissions %q: %w", path, perms, err)
	}
	mode := os.FileMode(p)
	data := []byte(content)
	if strings.Contains(flags, "newline") {
		data = append(data, '\n')
	}
	if err := writeContent(path, data, mode, strings.Contains(flags, "append")); err != nil {
		return "", fmt.Errorf("writeToFile: %w", err)
	}
	if owner != "" || group != "" {
		uid, gid, err := lookupOwner(owner, group)
		if err != nil {
			return "", fmt.Errorf("writeToFile %s: %w", path, err)
		}
		if err := os.Chown(path, uid, gid); err != nil {
			return "", fmt.Errorf("writeToFile: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return "", fmt.Errorf("writeToFile: %w", err)
	}
	return "", nil
}

func writeContent(path string, data []byte, mode os.FileMode, appendTo bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, flag, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// lookupOwner resolves user and group names or numeric IDs; "" is the
// process's own.
func lookupOwner(owner, group string) (int, int, error) {
	uid, gid := os.Getuid(), os.Getgid()
	if owner != "" {
		if u, err := user.Lookup(owner); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
		} else if uid, err = strconv.Atoi(owner); err != nil {
			return 0, 0, fmt.Errorf("user %q: unknown", owner)
		}
	}
	if group != "" {
		if g, err := user.LookupGroup(group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else if gid, err = strconv.Atoi(group); err != nil {
			return 0, 0, fmt.Errorf("group %q: unknown", group)
		}
	}
	return uid, gid, nil
}
