package consul

// h2Streams is the most requests in flight per HTTP/2 connection: the 100
// concurrent streams Go's HTTP/2 client assumes before the server's settings
// arrive (Consul's server allows 250).
const h2Streams = 100
