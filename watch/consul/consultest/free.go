package consultest

// FreePorts returns n distinct ports free for TCP and UDP on 127.0.0.1,
// chosen below the kernel's ephemeral range when there is room and never
// handed out before in this process (to an agent or to another caller), for
// servers a test starts beside an agent.
func FreePorts(n int) ([]int, error) { return freePorts(n) }
