# shellcheck shell=bash
# Sourced by the hooks (not a hook itself), so they agree: on the app's environment
# file, written by AfterInstall and read back by ValidateService (what the app was
# told, the listening port above all), and on which environment a deployment group
# deploys to.
#
# NOTEJAM_ENV_FILE overrides the file's place (tests).

# Both are read by the hooks that source this file.
# shellcheck disable=SC2034
notejam_env_file="${NOTEJAM_ENV_FILE:-/etc/notejam/notejam.env}"
# What notejam listens on without NOTEJAM_ADDR (notejam/src/config.rs, DEFAULT_ADDR).
# shellcheck disable=SC2034
notejam_default_addr="127.0.0.1:8000"

# env_line KEY VALUE: one KEY="value" line in systemd's EnvironmentFile syntax.
env_line() {
  local value="$2"
  case "$value" in
    *$'\n'*) echo "$(basename "$0"): the value for $1 spans lines" >&2; exit 1 ;;
  esac
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  printf '%s="%s"\n' "$1" "$value"
}

# env_value FILE KEY: prints the value env_line wrote for KEY (the last one, as
# systemd reads it); status 1 when FILE has no such line.
env_value() {
  local file=$1 key=$2 line="" found=1 value out="" char
  while IFS= read -r candidate || [ -n "$candidate" ]; do
    case "$candidate" in
      "$key=\""*\") line=$candidate; found=0 ;;
    esac
  done <"$file"
  [ "$found" -eq 0 ] || return 1
  value=${line#"$key=\""}
  value=${value%\"}
  while [ -n "$value" ]; do
    char=${value:0:1}
    if [ "$char" = "\\" ]; then
      out+=${value:1:1}
      value=${value:2}
    else
      out+=$char
      value=${value:1}
    fi
  done
  printf '%s' "$out"
}

# valid_env_name NAME: status 0 when NAME can be an environment's name. "canary" is
# no word of one: <env>-canary is the name of the environment's canary group, so an
# environment with it in its name could not be told apart from another's canary.
valid_env_name() {
  [[ "$1" =~ ^[a-z0-9][a-z0-9-]*$ ]] && ! [[ "$1" =~ (^|-)canary(-|$) ]]
}

# group_environment GROUP: prints the environment that CodeDeploy deployment group
# GROUP deploys to. An environment has two groups (provision/modules/delivery): <env>,
# the fleet, and <env>-canary, the instance the pipeline tries a release on first;
# both install the same environment's configuration. Status 1, with the reason on
# stderr, for a name that is neither.
group_environment() {
  local group=$1 env
  env=${group%-canary}
  if [ -z "$env" ]; then
    echo "$(basename "$0"): deployment group '$group' names no environment before '-canary'" >&2
    return 1
  fi
  if [[ "$env" =~ (^|-)canary(-|$) ]]; then
    echo "$(basename "$0"): deployment group '$group' is neither <env> nor <env>-canary ('canary' may only end the name)" >&2
    return 1
  fi
  if ! valid_env_name "$env"; then
    echo "$(basename "$0"): environment name '$env' (deployment group '$group') is not a lower-case name like 'prod'" >&2
    return 1
  fi
  printf '%s' "$env"
}

# valid_port TEXT: status 0 when TEXT is a TCP port number, 1 to 65535.
valid_port() {
  [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]
}

# local_url ADDR PATH: the URL that reaches a server bound to ADDR (host:port, as in
# NOTEJAM_ADDR) from this machine: a wildcard address is reached on loopback.
local_url() {
  local addr=$1 path=$2 host port
  port=${addr##*:}
  host=${addr%:*}
  case "$host" in
    0.0.0.0 | "") host=127.0.0.1 ;;
    "[::]") host="[::1]" ;;
  esac
  printf 'http://%s:%s%s' "$host" "$port" "$path"
}
