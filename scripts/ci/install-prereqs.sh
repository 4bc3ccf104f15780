#!/usr/bin/env bash
# Installs the Debian packages that CI and the integration tests need:
# a Docker engine, Chromium for Playwright, debootstrap (offline base image),
# Debian's docker-registry (local pull tests), iptables (dockerd networking), the OpenSSH
# client (ssh, scp, sftp against the SSH gateway), a Jupyter client (python3-requests and
# python3-websocket: the REST + kernel WebSocket client with a Gantry API token) and the Prometheus project's
# text-format parser (python3-prometheus-client: the metrics test reads GET /metrics with it).
# Idempotent: returns in well under a second when everything is installed.
set -euo pipefail

log() { echo "[install-prereqs] $*"; }
die() { echo "[install-prereqs] ERROR: $*" >&2; exit 1; }

# Recommends are installed too: that is the combination tried on these machines.
PACKAGES=(docker.io chromium debootstrap docker-registry iptables ca-certificates curl openssh-client python3-requests python3-websocket python3-prometheus-client)

is_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "all present: ${PACKAGES[*]}"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}) and not root; run: sudo $0"

export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_SUSPEND=1   # needrestart (a recommend on some hosts) must not try to restart services
APT_OPTS=(-y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# apt-get update only when the package lists are absent or stale (older than a day),
# or when an install from the current lists fails.
lists_fresh() {
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
  [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin +1440 -print -quit)" ]
}

t0=$SECONDS
log "missing: ${missing[*]}"
updated=0
if ! lists_fresh; then
  log "apt-get update (package lists absent or older than a day)"
  apt-get update -q
  updated=1
fi
log "apt-get install ${missing[*]}"
if ! apt-get install "${APT_OPTS[@]}" "${missing[@]}"; then
  [ "$updated" -eq 0 ] || die "apt-get install failed"
  log "install failed; running apt-get update and retrying once"
  apt-get update -q
  apt-get install "${APT_OPTS[@]}" "${missing[@]}"
fi

for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || die "package $pkg is still not installed"
done
log "installed ${missing[*]} in $((SECONDS - t0)) s"
