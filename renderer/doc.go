// Package renderer owns the agent loop: it executes templates whose data
// changed, stages and atomically commits their output to destination files,
// and runs the commands of files whose content changed.
//
// The loop ([Agent.Run]) is the single owner of the data store and the
// templates, so neither needs a lock. It drains every queued update before
// rendering, so a burst of changes costs one render; it delays a template by
// its wait window (never its first render); it writes a file only when every
// query the template used has data and only when the content differs; and it
// hands the commands of changed files, in config order and de-duplicated, to a
// worker goroutine it owns, so a slow reload never stalls rendering.
//
// [WriteFile] writes through a dot-prefixed temp file in the destination
// directory (never matched by `*.conf` globs or dnsmasq's hosts directories),
// fsyncs it, sets mode and owner, renames it over the destination and fsyncs
// the directory. [Command] runs a command in its own process group with a
// timeout that kills the whole group.
package renderer
