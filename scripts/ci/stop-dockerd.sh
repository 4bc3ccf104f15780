#!/usr/bin/env bash
# Stops the dockerd started by start-dockerd.sh, by its PID file only.
# Running containers are stopped by dockerd on shutdown; they remain (exited).
set -euo pipefail

log() { echo "[stop-dockerd] $*"; }
die() { echo "[stop-dockerd] ERROR: $*" >&2; exit 1; }

PID_FILE=/tmp/gantry-dockerd.pid
WAIT_S=${DOCKERD_STOP_TIMEOUT:-60}

if [ ! -e "$PID_FILE" ]; then
  log "no PID file $PID_FILE: nothing to stop"
  exit 0
fi
pid=$(cat "$PID_FILE")
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != dockerd ]; then
  log "pid ${pid:-?} from $PID_FILE is not a running dockerd; removing stale PID file"
  rm -f "$PID_FILE"
  exit 0
fi

t0=$SECONDS
log "stopping dockerd pid $pid (SIGTERM)"
kill -TERM "$pid"
while [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ]; do
  if [ $((SECONDS - t0)) -ge "$WAIT_S" ]; then
    log "dockerd pid $pid still running after ${WAIT_S} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
    break
  fi
  sleep 0.5
done
rm -f "$PID_FILE"
log "dockerd stopped after $((SECONDS - t0)) s"
