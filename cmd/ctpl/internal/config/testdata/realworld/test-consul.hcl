#consul-template -config /path/to/consul-template/file.hcl
# Shape of olesiapoz/test-consul haproxy.consul-temaplate.hcl (paths changed).
template {
  # This is the source file on disk to use as the input template. This is often
  # called the "Consul Template template". This option is required if not using
  # the `contents` option.
  source = "/home/centos/config/haproxy.ctmpl"

  # This is the destination path on disk where the source template will render.
  destination = "/home/centos/config/haproxy.cfg"

  # This options tells Consul Template to create the parent directories of the
  # destination path if they do not exist. The default value is true.
  create_dest_dirs = true

  # This is the optional command to run when the template is rendered.
  command = "docker restart ha-proxy-lb"

  }
