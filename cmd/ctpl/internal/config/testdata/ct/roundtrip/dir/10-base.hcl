consul {
  address = "127.0.0.1:8500"
  token_file = "/etc/ct/token"
  retry {
    backoff = "1s"
  }
}
log_level = "info"
template {
  source = "/etc/ct/a.ctmpl"
  destination = "/tmp/a"
}
