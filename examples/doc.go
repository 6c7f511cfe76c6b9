// Package examples holds ctpl's recipes, one directory per target (nginx,
// haproxy, dnsmasq): the ctpl config, the template, the target's own config
// that loads the rendered file, the check and reload commands and a systemd
// unit for ctpl.
//
// Its tests keep them honest. TestExamplesRender renders each template
// against a fixed registry snapshot (goldens in testdata/, refreshed with
// -update). The end-to-end tests start a real Consul agent (consultest),
// three backend HTTP servers on loopback, the real target and the ctpl
// binary (built once per test binary) with the shipped files, rewritten
// only to put every path and port inside the test, and then send traffic
// (or DNS queries) through the target. They find nginx, haproxy and dnsmasq
// on PATH or in /usr/sbin and skip when one is missing, unless
// CTPL_REQUIRE_TARGETS=1 makes that a failure. CTPL_EXAMPLES_LOGS=1 logs
// every program's output, not only a failed test's.
package examples
