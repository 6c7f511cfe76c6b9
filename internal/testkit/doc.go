// Package testkit holds the helpers that tests of several packages share:
// a log buffer, waiting on a condition with a deadline, and building the
// ctpl binary once per test binary. Only tests import it.
//
// # Concurrency
//
// A [Buffer] is safe for concurrent use, and so is [Build].
package testkit
