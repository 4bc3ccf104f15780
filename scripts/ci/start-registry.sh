#!/usr/bin/env bash
# Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1:5000 for pull tests:
# filesystem storage under /tmp/gantry-registry, no auth (the packaged config enables
# htpasswd, so this script writes its own to /tmp). Idempotent.
# Then checks that `docker push 127.0.0.1:5000/gantry/test-busybox:1` works
# (dockerd treats 127.0.0.0/8 registries as insecure, i.e. plain HTTP, by default).
#
# PID file: /tmp/gantry-registry.pid   Log: ${REGISTRY_LOG:-/tmp/gantry-registry.log}
# Stop: scripts/ci/stop-registry.sh
set -euo pipefail

log() { echo "[start-registry] $*"; }
die() { echo "[start-registry] ERROR: $*" >&2; exit 1; }

ADDR=127.0.0.1:5000
URL="http://$ADDR/v2/"
CONFIG=/tmp/gantry-registry-config.yml
STORAGE=/tmp/gantry-registry
PID_FILE=/tmp/gantry-registry.pid
REGISTRY_LOG=${REGISTRY_LOG:-/tmp/gantry-registry.log}
TEST_IMAGE=gantry/test-busybox:1
WAIT_S=30

registry_answers() { # the Docker Registry HTTP API v2 answers on $URL
  curl -fsS --max-time 3 --noproxy '*' -o /dev/null -D - "$URL" 2>/dev/null \
    | grep -qi '^docker-distribution-api-version: *registry/2.0'
}
pid_is_registry() { [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null || true)" = docker-registry ]; }

verify_push() {
  if ! timeout 10 docker info >/dev/null 2>&1; then
    log "no Docker engine answers: push check skipped (run start-dockerd.sh)"
    return 0
  fi
  if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
    log "$TEST_IMAGE not built yet: push check skipped (run build-test-images.sh)"
    return 0
  fi
  local insecure target="$ADDR/$TEST_IMAGE" t0=$SECONDS
  insecure=$(docker info --format '{{range .RegistryConfig.InsecureRegistryCIDRs}}{{.}} {{end}}')
  case " $insecure " in
    *" 127.0.0.0/8 "*) log "dockerd treats 127.0.0.0/8 as insecure (plain HTTP): $insecure" ;;
    *) die "dockerd does not list 127.0.0.0/8 as an insecure registry (has: ${insecure:-none})" ;;
  esac
  docker tag "$TEST_IMAGE" "$target"
  docker push "$target" >/dev/null || { docker rmi "$target" >/dev/null 2>&1 || true; die "docker push $target failed"; }
  docker rmi "$target" >/dev/null # only the extra tag; the image stays
  docker pull -q "$target" >/dev/null || die "docker pull $target failed"
  docker rmi "$target" >/dev/null
  curl -fsS --max-time 5 --noproxy '*' "http://$ADDR/v2/${TEST_IMAGE%:*}/tags/list" | grep -q "\"${TEST_IMAGE#*:}\"" \
    || die "pushed $target but the registry does not list the tag"
  log "push and pull ok: $target ($((SECONDS - t0)) s)"
}

command -v curl >/dev/null || die "curl not found; run scripts/ci/install-prereqs.sh"

if registry_answers; then
  if [ -r "$PID_FILE" ] && pid_is_registry "$(cat "$PID_FILE")"; then
    log "registry already running (pid $(cat "$PID_FILE")) at $URL"
  else
    log "a registry already answers at $URL (not started by this script)"
  fi
  verify_push
  exit 0
fi

command -v docker-registry >/dev/null || die "docker-registry not found; run scripts/ci/install-prereqs.sh"
t0=$SECONDS
if [ -r "$PID_FILE" ] && pid_is_registry "$(cat "$PID_FILE")"; then
  log "registry pid $(cat "$PID_FILE") exists but does not answer yet; waiting for it"
else
  rm -f "$PID_FILE"
  mkdir -p "$STORAGE"
  cat >"$CONFIG" <<YAML
# Written by scripts/ci/start-registry.sh: local test registry, no auth.
version: 0.1
log:
  level: info
  fields:
    service: gantry-test-registry
storage:
  filesystem:
    rootdirectory: $STORAGE
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $ADDR
  secret: gantry-ci-local-test-registry
  headers:
    X-Content-Type-Options: [nosniff]
YAML
  log "starting docker-registry on $ADDR (config: $CONFIG, storage: $STORAGE, log: $REGISTRY_LOG)"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start-registry.sh ===" >>"$REGISTRY_LOG"
  # The inner shell writes its own PID and then becomes docker-registry (exec), so the
  # PID file holds the registry's PID whether or not setsid had to fork.
  setsid nohup sh -c 'echo $$ >"$1"; exec docker-registry serve "$2"' sh "$PID_FILE" "$CONFIG" \
    >>"$REGISTRY_LOG" 2>&1 </dev/null &
fi

deadline=$((SECONDS + WAIT_S))
until registry_answers; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 20 "$REGISTRY_LOG" >&2 || true
    die "registry did not answer at $URL within ${WAIT_S} s"
  fi
  if [ -r "$PID_FILE" ] && [ -n "$(cat "$PID_FILE")" ] && [ ! -d "/proc/$(cat "$PID_FILE")" ]; then
    tail -n 20 "$REGISTRY_LOG" >&2 || true
    die "docker-registry exited during startup (log: $REGISTRY_LOG)"
  fi
  sleep 0.5
done
pid_is_registry "$(cat "$PID_FILE")" || die "something answers at $URL but $PID_FILE does not hold a docker-registry PID"
log "registry answering at $URL (pid $(cat "$PID_FILE")) after $((SECONDS - t0)) s"
verify_push
