// Package decode reads the JSON answers of Consul's hot endpoints straight
// into watch's records, without the api client's types or encoding/json.
//
// It owns the lexer (jsonlex*.go), which follows encoding/json wherever the
// decoded values could differ; the decoders of health answers ([Health]),
// the service list ([ServiceTags]) and the change detectors' check lists
// ([CheckRefs]), which share one decoder per schema (one check-field
// decoder serves health answers and check lists); the [Interner], which
// keeps one copy of the strings and values answers repeat; and the body
// hashes behind [Memo] and [Entries], which answer an unchanged body or
// entry with the value decoded before. Each decoder is tested against
// encoding/json into the api client's types, including on every prefix of
// its test bodies and under fuzzing.
//
// It imports nothing of Consul's: the adapter (package consul) sends the
// requests and hands over the bodies.
//
// # Concurrency
//
// The decoders are plain functions: a call owns its lexer and starts no
// goroutine. An [Interner], a [Memo] and [Counters] are safe for
// concurrent use. An [Entries] belongs to one query: calls of [Health]
// that share one must not run at once (the adapter holds a mutex around
// them). Decoded records are shared (by the interner and between answers)
// and must be treated as read-only.
package decode
