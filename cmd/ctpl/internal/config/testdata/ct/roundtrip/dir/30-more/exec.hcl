exec {
  command = "app"
  kill_signal = "SIGTERM"
}
