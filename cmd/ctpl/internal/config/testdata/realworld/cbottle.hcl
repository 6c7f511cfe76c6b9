# Shape of NVlabs/cBottle scripts/consul-template/config.hcl (paths changed).
consul {
  address = "localhost:8500"
}

template {
  source = "./scripts/nginx/site.conf.template"
  destination = "./scripts/nginx/site.conf"
  perms       = 0644
  command     = "./run_nginx.sh"
} 
