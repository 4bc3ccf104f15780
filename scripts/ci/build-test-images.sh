#!/usr/bin/env bash
# Builds the images the integration tests use, offline (nothing is pulled from a
# public registry), each only when it is missing:
#   local/debian:bookworm    debootstrap --variant=minbase from this machine's Debian mirror
#   gantry/test-jupyter:1    scripts/ci/images/jupyter (Jupyter Notebook, uid 1000)
#   gantry/test-busybox:1    scripts/ci/images/busybox (static busybox, uid 1000)
#   gantry/test-pytorch:1    scripts/ci/images/pytorch (PyTorch, Jupyter, openssh-server, uid 1000):
#                            the offline twin of images/pytorch/Dockerfile, the reference workspace image
# then checks the GPU stand-in and the Jupyter image for real.
#
# The gantry/* images carry a label with a hash of their build context, so editing
# scripts/ci/images/* rebuilds them on the next run. GANTRY_REBUILD_IMAGES=1 forces a
# rebuild of all of them. DEBIAN_MIRROR overrides the mirror found in /etc/apt.
# Needs a running dockerd (start-dockerd.sh) and root (debootstrap).
set -euo pipefail

log() { echo "[build-test-images] $*"; }
die() { echo "[build-test-images] ERROR: $*" >&2; exit 1; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_DIR="$SCRIPT_DIR/images"
SUITE=bookworm
BASE_IMAGE=local/debian:bookworm
JUPYTER_IMAGE=gantry/test-jupyter:1
BUSYBOX_IMAGE=gantry/test-busybox:1
PYTORCH_IMAGE=gantry/test-pytorch:1
HASH_LABEL=dev.gantry.ci.context-sha256
REBUILD=${GANTRY_REBUILD_IMAGES:-0}
VERIFY_NAME=gantry-ci-verify-jupyter
# The classic builder: the docker.io engine (20.10) has no buildx; this keeps the
# behaviour the same for every docker CLI version.
export DOCKER_BUILDKIT=0

declare -a SUMMARY=()
step_t0=0
step_begin() { step_t0=$SECONDS; log "== $1"; }
step_end() { # NAME RESULT
  local took=$((SECONDS - step_t0))
  SUMMARY+=("$(printf '%-30s %-36s %4d s' "$1" "$2" "$took")")
  log "-- $1: $2 in ${took} s"
}

timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/ci/start-dockerd.sh first"

TMP_DIRS=()
cleanup() {
  local d m
  for d in "${TMP_DIRS[@]}"; do
    [ -d "$d" ] || continue
    # debootstrap mounts proc/sys inside the target; never rm -rf through a mount.
    for m in $(awk -v p="$d/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$d"
  done
  docker rm -f "$VERIFY_NAME" >/dev/null 2>&1 || true
}
trap cleanup EXIT

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

context_hash() { # DIR -> sha256 over the relative names, executable bits and contents of its files
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sh -c \
    'for f; do if [ -x "$f" ]; then echo "$f +x"; else echo "$f -x"; fi; sha256sum < "$f"; done' sh \
    | sha256sum | cut -d' ' -f1)
}

needs_build() { # IMAGE [CONTEXT_HASH]
  [ "$REBUILD" = 1 ] && return 0
  image_exists "$1" || return 0
  if [ -n "${2:-}" ]; then
    local have
    have=$(docker image inspect --format "{{index .Config.Labels \"$HASH_LABEL\"}}" "$1" 2>/dev/null || true)
    if [ "$have" != "$2" ]; then
      log "$1 exists but its build context changed; rebuilding"
      return 0
    fi
  fi
  return 1
}

# The Debian mirror this machine's apt uses for $SUITE (one-line .list or deb822 .sources).
find_debian_mirror() {
  local f files=()
  [ -r /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  awk -v suite="$SUITE" '
    function flush() {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " suite " ") && enabled != "no" && uris != "" && !found) {
        split(uris, u, /[ \t]+/); print u[1]; found = 1
      }
      types = ""; uris = ""; suites = ""; enabled = ""
    }
    FNR == 1 { flush() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]*#/) next
      line = $0; key = tolower(line); sub(/:.*/, "", key)
      val = line; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "enabled") enabled = tolower(val)
      next
    }
    /^[ \t]*deb[ \t]/ && !found {
      n = split($0, w, /[ \t]+/); i = 2
      if (w[1] == "") i = 3
      if (w[i] ~ /^\[/) { while (i <= n && w[i] !~ /\]$/) i++; i++ }
      if (w[i + 1] == suite) { print w[i]; found = 1 }
    }
    END { flush() }
  ' "${files[@]}" | head -n 1
}

# --- a. local/debian:bookworm ---------------------------------------------
build_base() {
  step_begin "$BASE_IMAGE"
  if ! needs_build "$BASE_IMAGE"; then step_end "$BASE_IMAGE" "present, skipped"; return; fi
  command -v debootstrap >/dev/null || die "debootstrap not found; run scripts/ci/install-prereqs.sh"
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root; run: sudo $0"
  local mirror work rootfs
  mirror=${DEBIAN_MIRROR:-$(find_debian_mirror)}
  if [ -z "$mirror" ]; then
    mirror=http://deb.debian.org/debian
    log "no $SUITE entry found in /etc/apt/sources.list*; falling back to $mirror"
  fi
  work=$(mktemp -d /var/tmp/gantry-rootfs.XXXXXX)
  TMP_DIRS+=("$work")
  rootfs="$work/rootfs"
  log "debootstrap --variant=minbase $SUITE from $mirror"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 40 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/debootstrap
  log "rootfs is $(du -sh --one-file-system "$rootfs" | cut -f1); importing"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL org.opencontainers.image.title=local-debian-bookworm' \
    --message "debootstrap --variant=minbase $SUITE $mirror" \
    - "$BASE_IMAGE" >/dev/null
  rm -rf --one-file-system "$work"
  step_end "$BASE_IMAGE" "built"
}

# --- b. gantry/test-jupyter:1 ---------------------------------------------
build_jupyter() {
  step_begin "$JUPYTER_IMAGE"
  local ctx="$IMAGES_DIR/jupyter" hash
  hash=$(context_hash "$ctx")
  if ! needs_build "$JUPYTER_IMAGE" "$hash"; then step_end "$JUPYTER_IMAGE" "present, skipped"; return; fi
  docker build --label "$HASH_LABEL=$hash" -t "$JUPYTER_IMAGE" "$ctx"
  step_end "$JUPYTER_IMAGE" "built"
}

# --- b2. gantry/test-pytorch:1 --------------------------------------------
build_pytorch() {
  step_begin "$PYTORCH_IMAGE"
  local ctx="$IMAGES_DIR/pytorch" hash
  hash=$(context_hash "$ctx")
  if ! needs_build "$PYTORCH_IMAGE" "$hash"; then step_end "$PYTORCH_IMAGE" "present, skipped"; return; fi
  docker build --label "$HASH_LABEL=$hash" -t "$PYTORCH_IMAGE" "$ctx"
  step_end "$PYTORCH_IMAGE" "built ($(docker image inspect --format '{{.Size}}' "$PYTORCH_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# --- c. gantry/test-busybox:1 ---------------------------------------------
build_busybox() {
  step_begin "$BUSYBOX_IMAGE"
  local ctx="$IMAGES_DIR/busybox" hash work deb bb applet
  hash=$(context_hash "$ctx")
  if ! needs_build "$BUSYBOX_IMAGE" "$hash"; then step_end "$BUSYBOX_IMAGE" "present, skipped"; return; fi
  work=$(mktemp -d /var/tmp/gantry-busybox.XXXXXX)
  TMP_DIRS+=("$work")
  chmod 755 "$work"
  mkdir "$work/deb"
  # apt-get download runs as _apt when it can write the folder.
  id _apt >/dev/null 2>&1 && chown _apt "$work/deb"
  if ! (cd "$work/deb" && apt-get download -q busybox-static); then
    log "apt-get download failed; running apt-get update and retrying once"
    apt-get update -q
    (cd "$work/deb" && apt-get download -q busybox-static)
  fi
  deb=$(ls "$work"/deb/busybox-static_*.deb)
  mkdir "$work/x"
  dpkg -x "$deb" "$work/x"
  bb=$(find "$work/x" -type f -name busybox -perm -u+x | head -n 1)
  [ -n "$bb" ] || die "no busybox binary in $deb"

  mkdir "$work/ctx"
  cp -a "$ctx/." "$work/ctx/"
  local root="$work/ctx/rootfs"
  mkdir -p "$root/bin" "$root/etc"
  install -m 0755 "$bb" "$root/bin/busybox"
  # One symlink per applet, at the path busybox lists for it (sh, sleep, cat, ls, echo, env, id, touch, ...).
  while read -r applet; do
    [ -n "$applet" ] && [ "$applet" != bin/busybox ] || continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sf /bin/busybox "$root/$applet"
  done < <("$root/bin/busybox" --list-full)
  for applet in sh sleep cat ls echo env id touch mkdir rm; do
    [ -L "$root/bin/$applet" ] || [ -L "$root/usr/bin/$applet" ] || die "busybox has no applet $applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'user:x:1000:1000:user:/home/user:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'user:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
  log "busybox $(basename "$deb"), $("$root/bin/busybox" --list | wc -l) applets"
  docker build --network none --label "$HASH_LABEL=$hash" -t "$BUSYBOX_IMAGE" "$work/ctx"
  step_end "$BUSYBOX_IMAGE" "built ($(docker image inspect --format '{{.Size}}' "$BUSYBOX_IMAGE" | awk '{printf "%.1f MB", $1/1e6}'))"
}

# --- d. checks --------------------------------------------------------------
verify_gpu() {
  step_begin "verify GPU stand-in"
  local hook_log=${GANTRY_GPU_HOOK_LOG:-/tmp/gantry-gpu-hook.log} before=0 after=0 out
  [ -r "$hook_log" ] && before=$(wc -l <"$hook_log")
  out=$(docker run --rm --network none --gpus '"device=GPU-aaaa,GPU-bbbb"' "$BUSYBOX_IMAGE" env 2>&1) \
    || die "docker run --gpus failed: $out (dockerd must be started by start-dockerd.sh, with the stand-in hook on its PATH)"
  grep -qx 'NVIDIA_VISIBLE_DEVICES=GPU-aaaa,GPU-bbbb' <<<"$out" \
    || die "container did not see NVIDIA_VISIBLE_DEVICES=GPU-aaaa,GPU-bbbb; got: $out"
  [ -r "$hook_log" ] && after=$(wc -l <"$hook_log")
  if [ "$after" -gt "$before" ]; then
    log "hook ran: $(tail -n 1 "$hook_log")"
  else
    log "WARNING: no new line in $hook_log (dockerd may log the hook elsewhere via GANTRY_GPU_HOOK_LOG)"
  fi
  step_end "verify GPU stand-in" "NVIDIA_VISIBLE_DEVICES ok"
}

verify_jupyter() {
  step_begin "verify $JUPYTER_IMAGE"
  local token uid
  token=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  docker rm -f "$VERIFY_NAME" >/dev/null 2>&1 || true
  # No published ports: the check talks to the server from inside the container.
  docker run -d --name "$VERIFY_NAME" --label dev.gantry.ci.verify=1 \
    -e JUPYTER_TOKEN="$token" --memory 1g --pids-limit 256 --cap-drop ALL \
    --security-opt no-new-privileges "$JUPYTER_IMAGE" >/dev/null
  uid=$(docker exec "$VERIFY_NAME" sh -c 'awk "/^Uid:/ {print \$2}" /proc/1/status')
  [ "$uid" = 1000 ] || die "$JUPYTER_IMAGE runs as uid $uid, expected 1000"
  timeout 180 docker exec -i "$VERIFY_NAME" python3 - <<'PY' || { docker logs --tail 40 "$VERIFY_NAME" >&2; die "Jupyter check failed"; }
import json, os, time, urllib.error, urllib.request

token = os.environ["JUPYTER_TOKEN"]
base = "http://127.0.0.1:8888"

def call(method, path, auth=True, body=None):
    req = urllib.request.Request(base + path, method=method, data=body)
    if auth:
        req.add_header("Authorization", "token " + token)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

deadline = time.time() + 60
while True:
    try:
        status, body = call("GET", "/api/status")
        break
    except OSError:
        if time.time() > deadline:
            raise SystemExit("Jupyter did not answer on 127.0.0.1:8888 within 60 s")
        time.sleep(0.5)
assert status == 200, (status, body)
print("GET /api/status with token ->", status, json.loads(body))
status, _ = call("GET", "/api/status", auth=False)
assert status == 403, ("without token", status)
print("GET /api/status without token ->", status)

# A kernel started through the server runs 1+1.
status, body = call("POST", "/api/kernels", body=b"{}")
assert status == 201, (status, body)
kid = json.loads(body)["id"]
from jupyter_client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir
cf = os.path.join(jupyter_runtime_dir(), "kernel-%s.json" % kid)
deadline = time.time() + 30
while not os.path.exists(cf):
    if time.time() > deadline:
        raise SystemExit("no connection file " + cf)
    time.sleep(0.2)
# Own waiting loop: jupyter_client's wait_for_ready() misreads a slow heartbeat as
# "Kernel died" (the heartbeat check polls with timeout 0).
from queue import Empty
kc = BlockingKernelClient(connection_file=cf)
kc.load_connection_file()
kc.start_channels(hb=False)

def reply_to(msg_id, get_msg, wanted, until):
    while time.time() < until:
        try:
            m = get_msg(timeout=1)
        except Empty:
            continue
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == wanted:
            return m
    return None

deadline = time.time() + 60
while True:
    msg_id = kc.kernel_info()
    if reply_to(msg_id, kc.get_shell_msg, "kernel_info_reply", time.time() + 2):
        break
    if time.time() > deadline:
        raise SystemExit("kernel %s did not answer kernel_info within 60 s" % kid)
# iopub is a ZeroMQ SUB socket: its subscription can still be settling when the first request goes out
# (the "slow joiner"), and that request's output is then never seen. Ask again a few times.
result = reply = None
for attempt in range(5):
    msg_id = kc.execute("1+1")
    result = reply_to(msg_id, kc.get_iopub_msg, "execute_result", time.time() + 10)
    reply = reply_to(msg_id, kc.get_shell_msg, "execute_reply", time.time() + 10)
    if result and reply:
        break
assert result and reply and reply["content"]["status"] == "ok", (result, reply)
value = result["content"]["data"]["text/plain"]
assert value == "2", value
print("kernel %s: 1+1 -> %s" % (kid, value))
kc.stop_channels()
status, _ = call("DELETE", "/api/kernels/" + kid)
assert status == 204, ("DELETE kernel", status)
PY
  docker rm -f "$VERIFY_NAME" >/dev/null
  step_end "verify $JUPYTER_IMAGE" "uid 1000, /api/status, kernel ok"
}

t_all=$SECONDS
build_base
build_jupyter
build_pytorch
build_busybox
verify_gpu
verify_jupyter
log "summary:"
for line in "${SUMMARY[@]}"; do log "  $line"; done
log "done in $((SECONDS - t_all)) s"
