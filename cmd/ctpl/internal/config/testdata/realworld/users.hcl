# Shape of Sher-Chowdhury/CentOS7-Consul-Ansible-demo
# roles/consul-templates/files/configs/common/users.hcl (paths changed).
template {
  source = "/etc/consul-template/templates/users.ctmpl"
  destination = "/etc/consul-template/rendered/users.yml"
  command = "/bin/bash -c '/usr/bin/ansible-playbook /etc/consul-template/rendered/users.yml || true'"
  command_timeout = "60s"
  perms = 0600
  wait {
    min = "5s"
    max = "10s"
  }
}
