# Shape of mclueppers/haproxy-consul-template
# .docker/base/etc/consul-template/config.hcl (comments shortened).
consul {
  # This controls the retry behavior when an error is returned from Consul.
  retry {
    # This enabled retries. Retries are enabled by default, so this is
    # redundant.
    enabled = true

    # This specifies the number of attempts to make before giving up.
    attempts = 8

    # This is the base amount of time to sleep between retry attempts.
    backoff = "250ms"

    # This is the maximum amount of time to sleep between retry attempts.
    max_backoff = "1m"
  }
}

kill_signal = "SIGTERM"
max_stale = "1m"

wait {
  min = "5s"
  max = "10s"
}

# This block defines the configuration for de-duplication mode.
deduplicate {
  # This enables de-duplication mode.
  enabled = true

  # This is the prefix to the path in Consul's KV store.
  prefix = "consul-template/httprouty/dedup/"
}

template {
  source = "/etc/consul-template/templates/haproxy.cfg.ctmpl"
  destination = "/usr/local/etc/haproxy/haproxy.cfg"
  command = "/usr/local/bin/haproxy-reload"
}
