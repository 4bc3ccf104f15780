#!/usr/bin/env bash
# Stops the docker-registry started by start-registry.sh, by its PID file only.
# The pushed images stay under /tmp/gantry-registry.
set -euo pipefail

log() { echo "[stop-registry] $*"; }

PID_FILE=/tmp/gantry-registry.pid

if [ ! -e "$PID_FILE" ]; then
  log "no PID file $PID_FILE: nothing to stop"
  exit 0
fi
pid=$(cat "$PID_FILE")
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != docker-registry ]; then
  log "pid ${pid:-?} from $PID_FILE is not a running docker-registry; removing stale PID file"
  rm -f "$PID_FILE"
  exit 0
fi
log "stopping docker-registry pid $pid"
kill -TERM "$pid"
for _ in $(seq 1 40); do
  [ -d "/proc/$pid" ] || break
  sleep 0.25
done
if [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = docker-registry ]; then
  log "still running after 10 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PID_FILE"
log "stopped"
