# shellcheck shell=bash
# Shared by the wrapper scripts: find njtui and pass the environment through.
# Sourced, not run. NJTUI may name the binary; NJTUI_ENV (or -e ENV) the environment.

njtui_bin() {
  if [ -n "${NJTUI:-}" ]; then
    printf '%s\n' "$NJTUI"
  elif command -v njtui >/dev/null 2>&1; then
    command -v njtui
  else
    echo "njtui not found: install it (cargo install --path .) or set NJTUI=/path/to/njtui" >&2
    return 1
  fi
}

usage_and_exit() {
  printf 'usage: %s\n' "$1" >&2
  exit 2
}
