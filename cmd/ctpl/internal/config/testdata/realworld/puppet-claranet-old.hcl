# Shape of what claranet/puppet-consul_template's manifests/config.pp writes
# for consul-template < 0.18: keys v0.41.1 no longer has.
consul = "127.0.0.1:8500"
token = "00000000-0000-0000-0000-000000000000"
retry = "10s"

log_level = "info"

template {
  source = "/etc/consul-template/app.ctmpl"
  destination = "/etc/app/app.conf"
  command = "systemctl reload app"
}
