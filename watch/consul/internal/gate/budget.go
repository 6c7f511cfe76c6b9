package gate

// DetectorConns is what the change detectors hold outside the budget's
// gates: one long poll each.
const DetectorConns = 4

// Budget splits the requests a client may have in flight between long
// polls and plain reads. The change detectors hold DetectorConns more.
// Plain reads borrow free long-poll slots beyond the long polls' headroom.
type Budget struct {
	Long  *Gate // blocking queries
	Short *Gate // plain reads: first reads, re-reads of followers, probes
}

// NewBudget splits total in-flight requests.
func NewBudget(total int) Budget {
	short, long := split(total)
	b := Budget{Long: New(long), Short: New(short)}
	b.Short.lender, b.Long.borrower = b.Long, b.Short
	return b
}

// split divides total between plain reads and long polls, keeping at least
// one of each.
func split(total int) (short, long int) {
	short = max(1, min(16, total/8))
	long = max(1, total-short-DetectorConns)
	return short, long
}

// Shrink lowers the budget to total, preempting long polls beyond it.
func (b Budget) Shrink(total int) {
	short, long := split(total)
	b.Short.SetLimit(min(short, b.Short.Limit()))
	b.Long.SetLimit(min(long, b.Long.Limit()))
}
