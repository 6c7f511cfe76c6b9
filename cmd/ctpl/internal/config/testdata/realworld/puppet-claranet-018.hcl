# Shape of what claranet/puppet-consul_template's manifests/config.pp and
# watch.pp concatenate for consul-template >= 0.18 (values changed).
consul {
  address = "127.0.0.1:8500"
  token = "00000000-0000-0000-0000-000000000000"
  retry {
    attempts = 12
    backoff = "250ms"
  }
}

log_level = "info"
wait = "5s:30s"

max_stale = "1s"

reload_signal = "SIGHUP"
kill_signal = "SIGINT"

deduplicate {
  enabled = true
  prefix = "ct/dedup/"
}
vault {
  address = "https://vault.example:8200"
  token = "not-a-token"
  ssl {
    enabled = true
    verify = true
    cert = "/etc/ssl/vault.pem"
    ca_cert = "/etc/ssl/ca.pem"
  }
}

template {
  source = "/etc/consul-template/app.ctmpl"
  destination = "/etc/app/app.conf"
  command = "systemctl reload app"
}

