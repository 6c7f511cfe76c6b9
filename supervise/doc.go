// Package supervise runs one child process under ctpl (exec mode): it starts
// the child once the templates have rendered, signals or restarts it when a
// rendered file changes (after a random splay), forwards signals, stops it
// with a kill signal and a timeout after which the whole process group is
// killed, and restarts it with backoff when it dies (or hands its exit code
// back to the caller).
//
// It also builds the child's environment ([Env]), which never carries the
// Consul token or systemd's notification variables unless configured, and
// reaps orphaned zombies when ctpl runs as PID 1 ([Reap]).
//
// Concurrency: a [Supervisor] is driven by [Supervisor.Run], a loop its
// caller owns; Start, Changed and Signal are safe from any goroutine and
// never block. Run waits for every goroutine it starts and leaves no child
// process behind when it returns.
package supervise
