// Package file is the adapter that serves `file` queries: a local file's
// content, watched with fsnotify rather than polled. It is the only package
// of ctpl that imports github.com/fsnotify/fsnotify.
//
// A query watches the file's directory, so editors and config-management
// tools that replace a file by renaming another over it are seen too. Each
// query is used by one watch loop at a time, as package watch guarantees.
package file
