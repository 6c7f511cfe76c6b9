# Shape of mjm/pi-tools ansible/roles/bastille/files/prometheus/vault-agent.hcl:
# a heredoc template (here reading Consul, not Vault).
template {
  contents = <<EOT
{{ with service "vault" }}
vault {
  address = "http://{{ (index . 0).Address }}:8200"
}
{{ end }}
EOT
  destination = "/usr/local/etc/consul-template.d/vault.hcl"
  command = "pkill -HUP consul-template"
}
