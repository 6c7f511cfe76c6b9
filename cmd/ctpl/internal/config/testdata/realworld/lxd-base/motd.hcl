# A template file next to preeminent-it/packer-lxd-base's config.hcl (written
# for this test: the repository keeps its templates in other files).
template {
  source      = "/etc/consul-template/templates/motd.ctmpl"
  destination = "/etc/motd"
  perms       = 0644
}
