template {
  source = "/etc/consul-templates/templates/site.ctmpl"
  destination = "/etc/nginx/conf.d/site.conf"
  command = "systemctl restart nginx"
  command_timeout = "60s"
  perms = 0660
  backup = true
  wait {
    min = "2s"
    max = "10s"
  }
}
# Shape of banjocat/hosted ansible/roles/consul-templates/templates/jackmuratore.tf:
# a consul-template file named .tf (paths changed).
