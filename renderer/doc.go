// Package renderer owns the agent loop: it executes templates whose data
// changed, stages, checks and atomically commits their output to destination
// files, and runs the reload commands of changed files, rolling back content
// whose reload fails.
//
// The loop ([Agent.Run]) is the single owner of the data store, the
// templates and every destination file, so none needs a lock. It drains every
// queued update before rendering, so a burst of changes costs one render; it
// delays a template by its wait window (never its first render); it uses
// output only when every query the template used has data (while some are
// missing it executes the template again when they all arrived, or at most
// every 50 ms so that nested queries are still discovered), and holds output
// in which a health service query lost all its instances (Template.OnEmpty)
// or more than Template.MaxShrink of them.
//
// Activation is stage → check → commit: [Stage] writes a dot-prefixed temp
// file next to the destination (never matched by `*.conf` globs or dnsmasq's
// hosts directories), Template.Check runs against it on a goroutine the agent
// owns, and [Staged.Commit] renames it over the destination and fsyncs the
// directory. [WriteFile] is Stage followed by Commit.
//
// Templates sharing a command form a reload group with one worker goroutine
// per distinct command, owned and awaited by Run. A worker runs its command
// when content was activated and no render of the group is pending, at once
// and then at most once per Options.MinReloadInterval, and sends the result
// to the loop; a slow command delays neither rendering nor other groups. On a
// failed reload the loop restores each covered destination's last good
// content, runs the command again and marks the template degraded; the
// failed output is never written again. A Template.Verify runs after a
// reload that exited 0; when it fails the reload counts as failed. With
// Options.StateDir (created 0700 when missing) the commands owed (content
// activated, reload not yet successful) are kept on disk and re-run after a
// restart; when Run's context ends, the commands owed run at once, bounded
// by their timeouts, before Run returns.
//
// Each write is numbered and logged with its [Attribution]: the queries
// whose data changed since the last accepted output and, for health service
// queries, the instances added, removed and modified, bounded in size; each
// reload names the writes it covers. Template.LogDiff adds a unified diff.
// Until every template has rendered, the loop logs how many queries still
// lack data at most every Options.ProgressInterval.
//
// [Agent.Status] returns a snapshot safe to read from any goroutine; an
// [Observer] receives render, check and reload events. [Command] runs a
// command in its own process group with a timeout that kills the whole
// group.
package renderer
