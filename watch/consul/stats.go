package consul

import "sync/atomic"

// Stats are counters of the client's connection scheme, for metrics and
// benchmarks.
type Stats struct {
	LongPolls   int   // long polls in flight
	LongSlots   int   // the long-poll budget (lowered by 429s)
	PlainReads  int   // plain reads in flight
	PlainSlots  int   // the plain-read budget
	Followers   int64 // blocking requests answered by following the detectors
	Rereads     int64 // follower re-reads of data
	Probes      int64 // follower index probes
	ProbeHits   int64 // probes that proved the data unchanged
	Sweeps      int64 // unattributed changes, which made every follower probe
	NodeSweeps  int64 // registrations attributed by probing every node's index
	Attributed  int64 // changes the detectors attributed to services
	Preemptions int64 // long polls preempted by a lowered budget
	ViewLags    int64 // follower re-reads the agent's view could not answer within viewWait
}

type counters struct {
	followers, rereads, probes, probeHits, preemptions, viewLags atomic.Int64
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	long, longSlots := c.budget.Long.Stats()
	short, shortSlots := c.budget.Short.Stats()
	return Stats{
		LongPolls: long, LongSlots: longSlots, PlainReads: short, PlainSlots: shortSlots,
		Followers: c.count.followers.Load(), Rereads: c.count.rereads.Load(),
		Probes: c.count.probes.Load() + c.detected.NodeProbes.Load(), ProbeHits: c.count.probeHits.Load(),
		Sweeps: c.detected.Sweeps.Load(), NodeSweeps: c.detected.NodeSweeps.Load(),
		Attributed: c.detected.Attributed.Load(), Preemptions: c.count.preemptions.Load(),
		ViewLags: c.count.viewLags.Load(),
	}
}
