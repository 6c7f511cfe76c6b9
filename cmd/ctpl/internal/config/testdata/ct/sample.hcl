# A typical consul-template configuration (issue 17's sample).
log_level = "info"

consul {
  address = "127.0.0.1:8500"
  token_file = "/etc/consul-template/token"

  retry {
    enabled = true
    attempts = 12
    backoff = "250ms"
    max_backoff = "1m"
  }

  ssl {
    enabled = true
    verify = true
    ca_cert = "/etc/consul.d/ca.pem"
    server_name = "consul.service.consul"
  }
}

deduplicate {
  enabled = true
  prefix = "consul-template/dedup/"
}

syslog {
  enabled = true
  facility = "LOCAL5"
}

template {
  source = "/etc/consul-template/nginx.ctmpl"
  destination = "/etc/nginx/conf.d/upstreams.conf"
  perms = 0644
  wait = "2s:10s"
  exec {
    command = "nginx -s reload"
    timeout = "30s"
  }
}

template {
  source = "/etc/consul-template/app.ctmpl"
  destination = "/etc/app/app.conf"
  left_delimiter = "[["
  right_delimiter = "]]"
  wait = "2s:10s"
}

exec {
  command = ["/usr/bin/app", "-config", "/etc/app/app.conf"]
  reload_signal = "SIGHUP"
  kill_timeout = "10s"
  env {
    pristine = false
    custom = ["APP_ENV=production"]
    denylist = ["CONSUL_*"]
  }
}
