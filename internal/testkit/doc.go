// Package testkit holds the helpers that tests of several packages share.
// Only tests import it.
//
// # Concurrency
//
// A [Buffer] is safe for concurrent use.
package testkit
