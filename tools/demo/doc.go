// Command demo shows ctpl at work: it starts a dev Consul on loopback,
// registers a few web instances, runs bin/ctpl as a daemon rendering the nginx
// example into a temp directory, flips one instance's health so the file
// changes, and cleans up. Run it with `make demo`.
package main
