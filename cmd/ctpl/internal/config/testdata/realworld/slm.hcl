# Shape of eclipse-slm/slm ui/src/docker/config.hcl: exec mode, commands as
# lists.
consul {
  address = "consul:8500"
  #token = "not-a-real-token"
}

template {
  source =        "/consul-template/default.ctmpl"
  destination =   "/etc/nginx/conf.d/default.conf"
  exec {
    command = ["nginx", "-s", "reload"]
  }
}

exec {
  command = ["nginx", "-g", "daemon off;"]
}
