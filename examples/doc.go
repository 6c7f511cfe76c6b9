// Package examples holds ctpl's recipes (one directory per target) and the
// tests that render them, so the templates shipped here cannot go stale.
package examples
