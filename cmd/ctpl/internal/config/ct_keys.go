package config

// The keys of consul-template v0.41.1's configuration (its
// docs/configuration.md, and the few its config package reads beyond it) and
// what each becomes in ctpl's: a key of the same meaning, a key of another
// name, or a message saying why ctpl does not offer it. docs/migration.md
// has the same table for people; a test holds the two together.

// valueKind is the shape a consul-template key's value has.
type valueKind int

const (
	kBlock   valueKind = iota // a block whose keys are translated one by one
	kStr                      // a string
	kBool                     // true or false
	kInt                      // a whole number
	kDur                      // a duration such as "5s"
	kStrs                     // a list of strings (or one string of comma-separated items)
	kWait                     // a block {min, max} or "min:max"
	kSignal                   // a signal name such as "SIGHUP"
	kPerms                    // a file mode, 0600 or "0600"
	kCommand                  // a string or a list of strings
	kAny                      // anything: the key is dropped whole
)

// severity is how a dropped key is reported.
type severity int

const (
	sevNone  severity = iota // dropped silently: the value is ctpl's behaviour too
	sevWarn                  // safe to ignore: ctpl warns and runs
	sevError                 // ignoring it would change behaviour silently: ctpl refuses the config
)

// ctKey is one key of consul-template's configuration. Keys under
// "template." are a template block's.
type ctKey struct {
	ct   string    // consul-template's key path
	kind valueKind //
	to   string    // ctpl's key path (relative to the template for template keys); "" when dropped
	note string    // a comment for the converted key: how ctpl's meaning differs
	// drop says what a dropped key's value means for ctpl; nil with to ""
	// is an error saying the key is not supported.
	drop func(v *ctNode) (severity, string)
}

// always reports a dropped key the same whatever its value.
func always(sev severity, msg string) func(*ctNode) (severity, string) {
	return func(*ctNode) (severity, string) { return sev, msg }
}

// unlessFalse reports a dropped key unless its value is false (or, for a
// block, its enabled key is false).
func unlessFalse(sev severity, msg string) func(*ctNode) (severity, string) {
	return func(v *ctNode) (severity, string) {
		if off(v) {
			return sevNone, ""
		}
		return sev, msg
	}
}

// off says whether v is false, or a block with enabled = false.
func off(v *ctNode) bool {
	if b, ok := v.scalar.(bool); ok {
		return !b
	}
	if e := v.get("enabled"); e != nil {
		b, ok := e.scalar.(bool)
		return ok && !b
	}
	return false
}

// unlessDisabled reports a dropped block unless it says enabled = false
// (a flag's value, even false, is a setting of the block: reported).
func unlessDisabled(sev severity, msg string) func(*ctNode) (severity, string) {
	return func(v *ctNode) (severity, string) {
		if b := lastBlock(v); b != nil && b.scalar == nil && off(b) {
			return sevNone, ""
		}
		return sev, msg
	}
}

// unlessEmpty reports a dropped block unless it has no keys.
func unlessEmpty(sev severity, msg string) func(*ctNode) (severity, string) {
	return func(v *ctNode) (severity, string) {
		if b := lastBlock(v); b != nil && len(b.fields) == 0 {
			return sevNone, ""
		}
		return sev, msg
	}
}

// unlessIn reports a dropped key unless its value is one of ok (compared
// as text).
func unlessIn(sev severity, msg string, ok ...string) func(*ctNode) (severity, string) {
	return func(v *ctNode) (severity, string) {
		for _, s := range ok {
			if scalarText(v) == s {
				return sevNone, ""
			}
		}
		return sev, msg
	}
}

const (
	msgDedup = "not supported: ctpl has no de-duplication mode; every instance reads Consul itself " +
		"(run ctpl on a client agent, and raise max_stale to spread reads); see docs/migration.md#dedup"
	msgRetryAttempts = "ignored: ctpl retries forever in daemon mode (with -once, -once-timeout bounds the run); " +
		"see docs/migration.md#retry"
	msgTransport = "ignored: ctpl sets its own HTTP timeouts and keep-alives (consul.max_conns bounds its connections); " +
		"see docs/migration.md#transport"
	msgLogFile = "ignored: ctpl logs to stderr only (journald or your supervisor keeps and rotates it); " +
		"see docs/migration.md#logging"
	msgSyslog = "ignored: ctpl logs to stderr only (journald forwards it to syslog); see docs/migration.md#logging"
	msgVault  = "ignored: ctpl has no Vault client, and a template calling secret or secrets fails to load; " +
		"see docs/migration.md#vault-and-nomad"
	msgNomad = "ignored: ctpl has no Nomad client, and a template calling a nomad function fails to load; " +
		"see docs/migration.md#vault-and-nomad"
	msgErrFatal = "ignored: ctpl never exits on a template's error: it keeps the last good file and reports " +
		"the template failed (/status, metrics); see docs/migration.md#errors"
	msgFailedLookup = "ignored: ctpl never exits on a failed lookup: it retries and keeps the last good file; " +
		"see docs/migration.md#errors"
	msgOnce = "not a config key in ctpl: pass -once on the command line; see docs/migration.md#once"
	msgAuth = "not supported: set CONSUL_HTTP_AUTH=user:password in ctpl's environment instead; " +
		"see docs/migration.md#auth-and-namespace"
	msgNamespace = "not supported: set CONSUL_NAMESPACE in ctpl's environment instead; " +
		"see docs/migration.md#auth-and-namespace"
	msgCABytes = "not supported: give the CA as a file with consul.ssl.ca_cert; see docs/migration.md#keys"
	msgReload  = "not supported: ctpl reloads on SIGHUP only; see docs/migration.md#signals"
	msgKill    = "not supported: ctpl stops on SIGINT and SIGTERM only; see docs/migration.md#signals"
	msgExecTO  = "not supported: ctpl does not time out the exec child; see docs/migration.md#exec"
	msgTmplEnv = "not supported: template commands get ctpl's environment (without the Consul token unless " +
		"commands_pass_consul_token is set); see docs/migration.md#exec"
	msgTmplExecSig = "ignored: a template's command is killed when command_timeout passes; see docs/migration.md#exec"
	msgTmplSplay   = "ignored: ctpl runs a template's command without a splay (exec.splay spreads the exec child's " +
		"reloads); see docs/migration.md#exec"
)

var ctKeys = []ctKey{
	{ct: "consul", kind: kBlock, to: "consul"},
	{ct: "consul.address", kind: kStr, to: "consul.address"},
	{ct: "consul.namespace", kind: kStr, drop: unlessIn(sevError, msgNamespace, "")},
	{ct: "consul.auth", kind: kAny, drop: unlessFalse(sevError, msgAuth)},
	{ct: "consul.token", kind: kStr, to: "consul.token"},
	{ct: "consul.token_file", kind: kStr, to: "consul.token_file"},
	{ct: "consul.retry", kind: kBlock, to: "consul.retry"},
	{ct: "consul.retry.enabled", kind: kBool, drop: unlessIn(sevWarn, msgRetryAttempts, "true")},
	{ct: "consul.retry.attempts", kind: kInt, drop: unlessIn(sevWarn, msgRetryAttempts, "0")},
	{ct: "consul.retry.backoff", kind: kDur, to: "consul.retry.backoff"},
	{ct: "consul.retry.max_backoff", kind: kDur, to: "consul.retry.max_backoff",
		note: "ctpl caps every backoff: 0 is not unlimited (ctpl's default is 5s)"},
	{ct: "consul.ssl", kind: kBlock, to: "consul.ssl"},
	{ct: "consul.ssl.enabled", kind: kBool, to: "consul.ssl.enabled"},
	{ct: "consul.ssl.verify", kind: kBool, to: "consul.ssl.verify"},
	{ct: "consul.ssl.cert", kind: kStr, to: "consul.ssl.cert"},
	{ct: "consul.ssl.key", kind: kStr, to: "consul.ssl.key"},
	{ct: "consul.ssl.ca_cert", kind: kStr, to: "consul.ssl.ca_cert"},
	{ct: "consul.ssl.ca_path", kind: kStr, to: "consul.ssl.ca_path"},
	{ct: "consul.ssl.server_name", kind: kStr, to: "consul.ssl.server_name"},
	{ct: "consul.ssl.ca_cert_bytes", kind: kStr, drop: unlessIn(sevError, msgCABytes, "")},
	{ct: "consul.transport", kind: kBlock},
	{ct: "consul.transport.dial_keep_alive", kind: kDur, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.dial_timeout", kind: kDur, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.disable_keep_alives", kind: kBool, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.idle_conn_timeout", kind: kDur, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.max_idle_conns", kind: kInt, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.max_idle_conns_per_host", kind: kInt, drop: always(sevWarn, msgTransport)},
	{ct: "consul.transport.max_conns_per_host", kind: kInt, to: "consul.max_conns",
		note: "ctpl's connection budget: over plain HTTP queries beyond it wait their turn; 0 keeps the default of 100"},
	{ct: "consul.transport.tls_handshake_timeout", kind: kDur, drop: always(sevWarn, msgTransport)},

	{ct: "reload_signal", kind: kSignal, drop: unlessIn(sevError, msgReload, "SIGHUP", "HUP")},
	{ct: "kill_signal", kind: kSignal, drop: unlessIn(sevError, msgKill, "SIGINT", "INT", "SIGTERM", "TERM")},
	{ct: "max_stale", kind: kDur, to: "max_stale"},
	{ct: "block_query_wait", kind: kDur, to: "block_query_wait"},
	{ct: "log_level", kind: kStr, to: "log_level"},
	{ct: "pid_file", kind: kStr, to: "pid_file"},
	{ct: "template_error_fatal", kind: kBool, drop: unlessIn(sevWarn, msgErrFatal, "false")},
	{ct: "err_on_failed_lookup", kind: kBool, drop: unlessIn(sevWarn, msgFailedLookup, "false")},
	{ct: "wait", kind: kWait, to: "wait"},
	{ct: "once", kind: kBool, drop: unlessIn(sevError, msgOnce, "false")},
	{ct: "syslog", kind: kAny, drop: unlessFalse(sevWarn, msgSyslog)},
	{ct: "log_file", kind: kAny, drop: always(sevWarn, msgLogFile)},
	{ct: "deduplicate", kind: kAny, drop: unlessFalse(sevWarn, msgDedup)},
	{ct: "vault", kind: kAny, drop: unlessDisabled(sevWarn, msgVault)},
	{ct: "nomad", kind: kAny, drop: unlessDisabled(sevWarn, msgNomad)},
	{ct: "default_delimiters", kind: kBlock, to: "template_defaults"},
	{ct: "default_delimiters.left", kind: kStr, to: "template_defaults.left_delimiter"},
	{ct: "default_delimiters.right", kind: kStr, to: "template_defaults.right_delimiter"},

	{ct: "exec", kind: kBlock, to: "exec"},
	{ct: "exec.enabled", kind: kBool},
	{ct: "exec.command", kind: kCommand, to: "exec.command"},
	{ct: "exec.timeout", kind: kDur, drop: unlessIn(sevError, msgExecTO, "0", "0s")},
	{ct: "exec.splay", kind: kDur, to: "exec.splay"},
	{ct: "exec.reload_signal", kind: kSignal, to: "exec.reload_signal"},
	{ct: "exec.kill_signal", kind: kSignal, to: "exec.kill_signal"},
	{ct: "exec.kill_timeout", kind: kDur, to: "exec.kill_timeout"},
	{ct: "exec.env", kind: kBlock, to: "exec.env"},
	{ct: "exec.env.pristine", kind: kBool, to: "exec.env.pristine"},
	{ct: "exec.env.custom", kind: kStrs, to: "exec.env.custom"},
	{ct: "exec.env.allowlist", kind: kStrs, to: "exec.env.allowlist"},
	{ct: "exec.env.whitelist", kind: kStrs, to: "exec.env.allowlist", note: "whitelist is allowlist's older name"},
	{ct: "exec.env.denylist", kind: kStrs, to: "exec.env.denylist"},
	{ct: "exec.env.blacklist", kind: kStrs, to: "exec.env.denylist", note: "blacklist is denylist's older name"},

	{ct: "template", kind: kBlock, to: "templates"},
	{ct: "template.source", kind: kStr, to: "source"},
	{ct: "template.destination", kind: kStr, to: "destination"},
	{ct: "template.contents", kind: kStr, to: "contents"},
	{ct: "template.create_dest_dirs", kind: kBool, to: "create_dest_dirs"},
	{ct: "template.error_on_missing_key", kind: kBool, to: "error_on_missing_key"},
	{ct: "template.error_fatal", kind: kBool, drop: unlessIn(sevWarn, msgErrFatal, "false")},
	{ct: "template.perms", kind: kPerms, to: "perms"},
	{ct: "template.user", kind: kStr, to: "user"},
	{ct: "template.uid", kind: kInt, to: "user"},
	{ct: "template.group", kind: kStr, to: "group"},
	{ct: "template.gid", kind: kInt, to: "group"},
	{ct: "template.backup", kind: kBool, to: "backup"},
	{ct: "template.left_delimiter", kind: kStr, to: "left_delimiter"},
	{ct: "template.right_delimiter", kind: kStr, to: "right_delimiter"},
	{ct: "template.function_denylist", kind: kStrs, to: "function_denylist"},
	{ct: "template.function_blacklist", kind: kStrs, to: "function_blacklist"},
	{ct: "template.sandbox_path", kind: kStr, to: "sandbox_path"},
	{ct: "template.wait", kind: kWait, to: "wait"},
	{ct: "template.command", kind: kCommand, to: "command"},
	{ct: "template.command_timeout", kind: kDur, to: "command_timeout"},
	{ct: "template.exec", kind: kBlock},
	{ct: "template.exec.enabled", kind: kBool},
	{ct: "template.exec.command", kind: kCommand, to: "command"},
	{ct: "template.exec.timeout", kind: kDur, to: "command_timeout"},
	{ct: "template.exec.env", kind: kAny, drop: unlessEmpty(sevError, msgTmplEnv)},
	{ct: "template.exec.splay", kind: kDur, drop: unlessIn(sevWarn, msgTmplSplay, "0", "0s")},
	{ct: "template.exec.reload_signal", kind: kSignal, drop: always(sevWarn, msgTmplExecSig)},
	{ct: "template.exec.kill_signal", kind: kSignal, drop: always(sevWarn, msgTmplExecSig)},
	{ct: "template.exec.kill_timeout", kind: kDur, drop: always(sevWarn, msgTmplExecSig)},
}

// ctKeyIndex finds a key's rule by its consul-template path.
var ctKeyIndex = func() map[string]*ctKey {
	m := make(map[string]*ctKey, len(ctKeys))
	for i := range ctKeys {
		m[ctKeys[i].ct] = &ctKeys[i]
	}
	return m
}()
