#!/usr/bin/env bash
# Starts a Docker engine for CI and local integration tests, unless one already
# answers on /var/run/docker.sock.
#
# dockerd is started in its own session (it outlives this script) with
# scripts/ci/gpu-stand-in first on its PATH, so its "nvidia" device driver is
# registered and `--gpus` / DeviceRequests work without GPUs.
#
# Env: DOCKERD_LOG (default /tmp/gantry-dockerd.log)
#      GANTRY_GPU_HOOK_LOG (default /tmp/gantry-gpu-hook.log; inherited by the hook)
# PID file: /tmp/gantry-dockerd.pid (written by dockerd itself). Stop with stop-dockerd.sh.
set -euo pipefail

log() { echo "[start-dockerd] $*"; }
die() { echo "[start-dockerd] ERROR: $*" >&2; exit 1; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STAND_IN_DIR="$SCRIPT_DIR/gpu-stand-in"
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/gantry-dockerd.log}
PID_FILE=/tmp/gantry-dockerd.pid
SOCK=unix:///var/run/docker.sock
WAIT_S=60

docker_answers() { timeout 10 docker --host "$SOCK" info >/dev/null 2>&1; }
pid_is_dockerd() { [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null || true)" = dockerd ]; }

# Prints the first local image suited for a quick container run, or nothing.
pick_local_image() {
  local img
  for img in gantry/test-busybox:1 local/debian:bookworm gantry/test-jupyter:1; do
    if docker --host "$SOCK" image inspect "$img" >/dev/null 2>&1; then echo "$img"; return; fi
  done
}

# Checks that dockerd's nvidia driver (the stand-in hook) works, if an image exists.
verify_gpu_hook() {
  local img out
  img=$(pick_local_image)
  if [ -z "$img" ]; then
    log "no local image yet: GPU stand-in check skipped (build-test-images.sh runs it)"
    return 0
  fi
  if ! out=$(timeout 60 docker --host "$SOCK" run --rm --network none --gpus '"device=GPU-aaaa"' "$img" env 2>&1); then
    die "docker run --gpus failed with $img: $out (was this dockerd started without the stand-in hook on its PATH? run stop-dockerd.sh and start again)"
  fi
  grep -qx 'NVIDIA_VISIBLE_DEVICES=GPU-aaaa' <<<"$out" \
    || die "container did not see NVIDIA_VISIBLE_DEVICES=GPU-aaaa; got: $out"
  log "GPU stand-in ok: --gpus device=GPU-aaaa gave NVIDIA_VISIBLE_DEVICES=GPU-aaaa in $img"
}

command -v docker >/dev/null || die "docker CLI not found; run scripts/ci/install-prereqs.sh"

if docker_answers; then
  if [ -r "$PID_FILE" ] && pid_is_dockerd "$(cat "$PID_FILE")"; then
    log "dockerd already running (pid $(cat "$PID_FILE"), started by this script) and answering on $SOCK"
  else
    log "a Docker engine already answers on $SOCK (not started by this script)"
    # dockerd only registers the nvidia driver if the hook was on its PATH when it started.
    if ! grep -qs "$STAND_IN_DIR" "/proc/$(pgrep -xo dockerd 2>/dev/null || echo 0)/environ" \
       && ! command -v nvidia-container-runtime-hook >/dev/null; then
      log "WARNING: it may lack the nvidia device driver (--gpus); GPU tests need a dockerd started with $STAND_IN_DIR on its PATH"
    fi
  fi
  verify_gpu_hook
  exit 0
fi

command -v dockerd >/dev/null || die "dockerd not found; run scripts/ci/install-prereqs.sh"
[ "$(id -u)" -eq 0 ] || die "starting dockerd needs root; run: sudo $0"

t0=$SECONDS
if [ -r "$PID_FILE" ]; then
  old=$(cat "$PID_FILE")
  if pid_is_dockerd "$old"; then
    log "dockerd pid $old exists but does not answer yet; waiting for it"
  else
    log "removing stale PID file $PID_FILE (pid ${old:-?} is not a dockerd)"
    rm -f "$PID_FILE"
  fi
fi

if [ ! -e "$PID_FILE" ]; then
  [ -x "$STAND_IN_DIR/nvidia-container-runtime-hook" ] || die "missing $STAND_IN_DIR/nvidia-container-runtime-hook"
  log "starting dockerd (log: $DOCKERD_LOG, PATH prefix: $STAND_IN_DIR)"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start-dockerd.sh ===" >>"$DOCKERD_LOG"
  PATH="$STAND_IN_DIR:$PATH" GANTRY_GPU_HOOK_LOG="${GANTRY_GPU_HOOK_LOG:-/tmp/gantry-gpu-hook.log}" \
    setsid nohup dockerd --host "$SOCK" --pidfile "$PID_FILE" >>"$DOCKERD_LOG" 2>&1 </dev/null &
fi

deadline=$((SECONDS + WAIT_S))
until docker_answers; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    die "dockerd did not answer within ${WAIT_S} s (log: $DOCKERD_LOG)"
  fi
  if [ -r "$PID_FILE" ] && ! pid_is_dockerd "$(cat "$PID_FILE")"; then
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    die "dockerd exited during startup (log: $DOCKERD_LOG)"
  fi
  sleep 1
done
[ -r "$PID_FILE" ] || die "dockerd answers but did not write $PID_FILE"
log "dockerd answering (pid $(cat "$PID_FILE"), server $(docker --host "$SOCK" version --format '{{.Server.Version}}'), cgroup v$(docker --host "$SOCK" info --format '{{.CgroupVersion}}'), storage $(docker --host "$SOCK" info --format '{{.Driver}}')) after $((SECONDS - t0)) s"
verify_gpu_hook
