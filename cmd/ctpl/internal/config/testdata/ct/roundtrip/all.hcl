# Every key consul-template v0.41.1 documents, with values ctpl can honour
# or safely ignore (the keys ctpl refuses are in ct_test.go's error table).
reload_signal = "SIGHUP"
kill_signal = "SIGTERM"
max_stale = "10m"
block_query_wait = "30s"
log_level = "trace"
pid_file = "/run/ct.pid"
template_error_fatal = true
err_on_failed_lookup = true
once = false

wait {
  min = "5s"
  max = "10s"
}

consul {
  address = "127.0.0.1:8500"
  namespace = ""
  token = "t0ken"
  token_file = "/etc/ct/token"

  auth {
    enabled = false
    username = "test"
    password = "test"
  }

  retry {
    enabled = true
    attempts = 12
    backoff = "500ms"
    max_backoff = "1m"
  }

  transport {
    dial_keep_alive = "10s"
    dial_timeout = "10s"
    disable_keep_alives = true
    idle_conn_timeout = "90s"
    max_idle_conns = 100
    max_idle_conns_per_host = 100
    max_conns_per_host = 40
    tls_handshake_timeout = "30s"
  }

  ssl {
    enabled = true
    verify = false
    cert = "/path/to/client/cert"
    key = "/path/to/client/key"
    ca_cert = "/path/to/ca"
    ca_path = "/path/to/certs/"
    server_name = "my-server.com"
    ca_cert_bytes = ""
  }
}

vault {
  address = "https://vault.service.consul:8200"
  renew_token = true
}

nomad {
  address = "https://127.0.0.1:4647"
}

syslog {
  enabled = true
  facility = "LOCAL5"
  name = "consul-template"
}

log_file {
  path = "/var/log/something.log"
  log_rotate_bytes = 1024000
  log_rotate_duration = "3h"
  log_rotate_max_files = 10
}

deduplicate {
  enabled = true
  prefix = "consul-template/dedup/"
  max_stale = "2s"
  ttl = "15s"
  block_query_wait = "1m"
}

default_delimiters {
  left = "<<"
  right = ">>"
}

exec {
  enabled = true
  command = ["/usr/bin/app"]
  timeout = "0"
  splay = "5s"
  reload_signal = "SIGUSR1"
  kill_signal = "SIGTERM"
  kill_timeout = "2s"
  env {
    pristine = false
    custom = ["PATH=$PATH:/etc/myapp/bin"]
    allowlist = ["CONSUL_*"]
    whitelist = ["HOME"]
    denylist = ["VAULT_*"]
    blacklist = ["AWS_*"]
  }
}

template {
  source = "/path/on/disk/to/template.ctmpl"
  destination = "/path/on/disk/where/template/will/render.txt"
  create_dest_dirs = false
  error_on_missing_key = true
  error_fatal = true
  perms = 0600
  user = "root"
  group = "0"
  backup = true
  left_delimiter = "[["
  right_delimiter = "]]"
  function_denylist = ["env"]
  function_blacklist = ["plugin"]
  sandbox_path = "/srv/sandbox"
  wait {
    min = "2s"
    max = "10s"
  }
  command = ["restart", "service", "foo"]
  command_timeout = "60s"
}

template {
  contents = "{{ keyOrDefault \"service/redis/maxconns@east-aws\" \"5\" }}"
  destination = "/tmp/redis.conf"
  uid = 0
  gid = 0
  error_fatal = false
  wait = "3s:9s"
  exec {
    enabled = true
    command = "service redis restart"
    timeout = "30s"
    env {}
    splay = "0s"
    reload_signal = "SIGHUP"
    kill_signal = "SIGTERM"
    kill_timeout = "5s"
  }
}
