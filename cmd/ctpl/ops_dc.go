package main

import "github.com/ctpl/ctpl/telemetry"

// readiness is what /readyz and the status report weigh.
func (o *ops) readiness() telemetry.Readiness {
	maxAge, ignore := o.cfg.Readiness()
	return telemetry.Readiness{MaxDataAge: maxAge, Ignore: ignore}
}
