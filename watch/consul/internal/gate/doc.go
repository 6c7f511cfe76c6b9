// Package gate keeps a client's requests to Consul within its connection
// budget.
//
// A [Gate] is a semaphore whose size can change: lowering it preempts the
// newest holders by cancelling their contexts. Waiters queue in FIFO order,
// urgent ones first, and a freed slot is handed to the first waiter
// directly. A [Budget] splits the requests in flight between plain reads
// ([Budget.Short]) and long polls ([Budget.Long]), leaving [DetectorConns]
// to the change detectors; plain reads borrow free long-poll slots beyond
// the long polls' headroom (a quarter, at most 8), which
// [Gate.TryAcquire] also leaves free. [Run] and [RunAs] run a function on
// a slot, again when the slot is preempted.
//
// # Concurrency
//
// Gates and budgets are safe for concurrent use and start no goroutines:
// a waiter blocks in its own goroutine until it is handed a slot, its
// context ends or its abort channel closes. Each [Hold] must be released
// exactly once, by its holder, with [Gate.Release]. A borrowing gate locks
// its own mutex before its lender's, never the other way round.
package gate
