# Shape of dehuszar/hashistack-config
# consul/consul-template/configurations/client/build-client-tls.hcl.
syslog {
  enabled  = true
  facility = "LOCAL5"
}

template {
  source      = "/etc/consul-template.d/templates/tls.hcl.tpl"
  destination = "/etc/consul.d/tls.hcl"
  perms       = 0444
}

exec {
  command = "sudo bash -c 'chown consul:consul /etc/consul.d/*.hcl'"
}
