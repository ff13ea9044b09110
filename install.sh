#!/usr/bin/env bash
# berth installer: packages, Bun, build, /usr/local/bin/berth, config, data dir, service.
# Run as root from a clone of the repository. Re-running it upgrades in place.
set -euo pipefail

readonly BUN_VERSION="1.4.4"
# BERTH_ROOT: a directory every path below is written and removed under (a scratch root for tests).
# Packages and daemons stay the host's; with it set, systemd is never touched.
ROOT="${BERTH_ROOT:-}"
ROOT="${ROOT%/}"
readonly ROOT
readonly BIN="${ROOT}/usr/local/bin/berth"
readonly CONF_DIR="${ROOT}/etc/berth"
readonly CONF="${CONF_DIR}/berth.toml"
readonly DATA_DIR="${ROOT}/var/lib/berth"
readonly LOG_FILE="${ROOT}/var/log/berth.log"
readonly PID_FILE="${ROOT}/run/berth.pid"
readonly UNIT_FILE="${ROOT}/etc/systemd/system/berth.service"
readonly LOGROTATE_FILE="${ROOT}/etc/logrotate.d/berth"
readonly OVS_CTL="/usr/share/openvswitch/scripts/ovs-ctl"
readonly LIBVIRT_URI="qemu:///system"
readonly DEFAULT_LISTEN="127.0.0.1:8470"
readonly HEALTH_TIMEOUT_S=20
readonly LIBVIRT_TIMEOUT_S=30
readonly STOP_TIMEOUT_S=20
readonly KVM_PROBE_TIMEOUT_S=15
CONFIG_CREATED=0

readonly RUNTIME_PKGS=(
  libvirt0 libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system
  qemu-system-x86 qemu-utils openvswitch-switch dnsmasq-base ca-certificates
  genisoimage # builds the cloud-init config drive (cidata ISO)
  nftables # nft: PVC's network ACLs in berth's own table
  openssl # the sysadm front's self-signed TLS pair, made at first start
  cpio xz-utils zstd # berth demo-image packs the demo guest's initramfs (modules may be xz/zstd)
  curl procps uuid-runtime # used by this script (health check, pgrep) and by ovs-ctl --system-id=random
)
readonly TEST_PKGS=(wrk hyperfine virtinst iproute2 chromium etcd-server
  ceph-mon ceph-mgr ceph-osd ceph-common libvirt-daemon-driver-storage-rbd qemu-block-extra) # virtinst: bench/provision.ts's virt-install baseline; iproute2: test hosts in network namespaces; chromium: the dashboard test's headless browser; etcd-server: the fleet tests' 3-member etcd; ceph-*: the rbd test's single-node Ceph; libvirt's rbd storage backend and QEMU's rbd block driver: [storage] backend = "rbd"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
readonly REPO_DIR

# Daemons live in sbin, which `su` without `-` leaves out of PATH.
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH}"
export DEBIAN_FRONTEND=noninteractive

WITH_TEST_DEPS=0
NO_START=0
UNINSTALL=0
PURGE=0
TMP_FILES=()

log() { printf 'berth-install: %s\n' "$*"; }
warn() { printf 'berth-install: warning: %s\n' "$*" >&2; }
die() {
  printf 'berth-install: error: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local f
  for f in "${TMP_FILES[@]+"${TMP_FILES[@]}"}"; do
    rm -f -- "$f"
  done
}
trap cleanup EXIT

usage() {
  cat <<EOF
Usage: ./install.sh [--with-test-deps] [--no-start]
       ./install.sh --uninstall [--purge]

Installs berth on this Debian/Ubuntu host (run as root, from the repository):
apt packages (libvirt, QEMU, Open vSwitch), Bun ${BUN_VERSION}, builds the binary
into ${BIN}, creates ${CONF} (only if absent) and ${DATA_DIR},
then starts libvirtd, virtlogd, Open vSwitch and berth. Re-running upgrades in place.

With systemd as PID 1 berth runs as berth.service; without it the daemons are
started by hand and berth runs in the background (pid file ${PID_FILE},
log ${LOG_FILE}).

Options:
  --with-test-deps  also install what the benchmarks and the fleet tests need
                    (wrk hyperfine virtinst etcd-server, a single-node Ceph's
                    packages, libvirt's rbd backend); implied when CI=true
  --no-start        install everything, start libvirt/OVS, but do not (re)start berth
  --uninstall       stop berth, remove ${BIN} and the systemd unit; keeps
                    ${CONF_DIR} and ${DATA_DIR}
  --purge           with --uninstall: first stop and undefine berth's VMs (the
                    domains whose berth metadata names this installation),
                    remove its networks and storage pool (berth teardown), or
                    refuse and say why; then remove ${CONF_DIR}, ${DATA_DIR}
                    (the VMs' disks with it) and ${LOG_FILE}
  -h, --help        show this help

Environment:
  BERTH_LISTEN      without systemd: host:port for berth (it reads this too) and
                    for the health check; default: 'listen' from ${CONF},
                    else ${DEFAULT_LISTEN}
  CI=true           same as --with-test-deps
  BERTH_ROOT        a directory every file path above is written and removed
                    under (tests); systemd is then never used
EOF
}

parse_args() {
  while [ "$#" -gt 0 ]; do
    case "$1" in
      --with-test-deps) WITH_TEST_DEPS=1 ;;
      --no-start) NO_START=1 ;;
      --uninstall) UNINSTALL=1 ;;
      --purge) PURGE=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        die "unknown argument: $1 (see --help)"
        ;;
    esac
    shift
  done
  if [ "$PURGE" -eq 1 ] && [ "$UNINSTALL" -eq 0 ]; then
    die "--purge only goes with --uninstall"
  fi
  if [ "${CI:-}" = "true" ]; then
    WITH_TEST_DEPS=1
  fi
  if [ -n "$ROOT" ] && { [ "${ROOT#/}" = "$ROOT" ] || [ ! -d "$ROOT" ]; }; then
    die "BERTH_ROOT must be an existing absolute directory (got: ${ROOT})"
  fi
}

# A scratch root never reaches the host's systemd (it would stop the host's berth.service).
has_systemd() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# Runs a named step and prints how long it took.
step() {
  local name="$1" start ms
  shift
  start="${EPOCHREALTIME/[.,]/}"
  "$@"
  ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
  log "${name} done ($((ms / 1000)).$((ms % 1000 / 100))s)"
}

# ---------------------------------------------------------------- packages

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# Installs the named packages that are missing; no apt-get update when none is.
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "apt packages already installed ($#)"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  apt-get -q -o DPkg::Lock::Timeout=300 update
  apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}"
}

install_packages() {
  local pkgs=("${RUNTIME_PKGS[@]}")
  if [ "$WITH_TEST_DEPS" -eq 1 ]; then
    pkgs+=("${TEST_PKGS[@]}")
  fi
  apt_ensure "${pkgs[@]}"
}

# ---------------------------------------------------------------- bun

bun_version() {
  if command -v bun >/dev/null 2>&1; then
    bun --version 2>/dev/null || true
  fi
}

install_bun() {
  local have
  have="$(bun_version)"
  if [ "$have" = "$BUN_VERSION" ]; then
    log "bun ${have} already installed"
    return 0
  fi
  log "bun ${have:-missing}: installing bun@${BUN_VERSION} with npm"
  if ! command -v npm >/dev/null 2>&1; then
    apt_ensure nodejs npm
  fi
  npm install -g --no-audit --no-fund "bun@${BUN_VERSION}"
  hash -r
  # npm's global bin is /usr/bin for Debian's npm, /usr/local/bin for npm's own.
  if [ "$(bun_version)" != "$BUN_VERSION" ]; then
    PATH="$(npm prefix -g)/bin:${PATH}"
    hash -r
  fi
  have="$(bun_version)"
  [ "$have" = "$BUN_VERSION" ] || die "bun ${BUN_VERSION} not on PATH after npm install (found: ${have:-none})"
}

# ---------------------------------------------------------------- build

build_berth() {
  [ -f "${REPO_DIR}/package.json" ] || die "run install.sh from the berth repository (no package.json in ${REPO_DIR})"
  cd "$REPO_DIR"
  bun install --frozen-lockfile
  bun run build
  [ -x "${REPO_DIR}/dist/berth" ] || die "bun run build did not produce ${REPO_DIR}/dist/berth"
}

# Copy next to the target, then rename: a running berth keeps its old inode.
install_binary() {
  local tmp="${BIN}.new.$$" version
  TMP_FILES+=("$tmp")
  install -d -m 0755 "$(dirname "$BIN")"
  install -m 0755 -o root -g root "${REPO_DIR}/dist/berth" "$tmp"
  version="$("$tmp" version 2>&1)" || die "the built binary does not run: ${version}"
  mv -f -- "$tmp" "$BIN"
  log "installed ${BIN} (${version})"
}

install_config() {
  install -d -m 0755 "$CONF_DIR"
  if [ -e "$CONF" ]; then
    log "keeping existing ${CONF}"
  else
    [ -f "${REPO_DIR}/deploy/berth.example.toml" ] || die "missing ${REPO_DIR}/deploy/berth.example.toml"
    install -m 0640 -o root -g root "${REPO_DIR}/deploy/berth.example.toml" "$CONF"
    CONFIG_CREATED=1
    log "created ${CONF} from deploy/berth.example.toml"
  fi
  # 0711: QEMU (user libvirt-qemu) must traverse it to reach disks in the pool below; nobody may list it.
  install -d -m 0711 -o root -g root "$DATA_DIR"
  chmod 0711 "$DATA_DIR"
  local out
  out="$("$BIN" config check --config "$CONF" 2>&1)" || die "config check failed for ${CONF}: ${out}"
}

# The demo pool's tiny guest (kernel + busybox initramfs from Debian packages, never installed on the
# host). Without it berth runs fine, only without the demo pool: a failure here is a warning.
build_demo_image() {
  local out
  if out="$("$BIN" demo-image --config "$CONF" 2>&1)"; then
    log "$(printf '%s\n' "$out" | tail -n 1)"
  else
    warn "the demo guest was not built (the demo pool stays off): ${out}"
  fi
}

# Some hosts offer /dev/kvm but never run a guest with it (nested or restricted virtualisation): the
# guest starts and prints nothing. Boot the demo guest under KVM for a moment; if it says nothing,
# a config this run created gets domain_type = "qemu" (TCG), and an existing one a warning.
choose_domain_type() {
  local kernel="${DATA_DIR}/demo/vmlinuz" initrd="${DATA_DIR}/demo/initramfs.img" out
  if [ ! -e /dev/kvm ]; then
    log "no /dev/kvm: guests run under TCG (domain_type auto picks qemu)"
    return 0
  fi
  if [ ! -f "$kernel" ] || [ ! -f "$initrd" ] || ! command -v qemu-system-x86_64 >/dev/null; then
    log "KVM not probed (no demo guest or qemu-system-x86_64)"
    return 0
  fi
  out="$(timeout "$KVM_PROBE_TIMEOUT_S" qemu-system-x86_64 -accel kvm -m 128 -nodefaults -display none \
    -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 berth.installer=1 panic=-1" </dev/null 2>&1 | grep -a -m1 'BERTH-GUEST: boot' || true)"
  if [ -n "$out" ]; then
    log "KVM runs guests here"
  elif [ "$CONFIG_CREATED" -eq 1 ] && grep -q '^domain_type = "auto"$' "$CONF"; then
    sed -i 's/^domain_type = "auto"$/domain_type = "qemu"  # set by install.sh: KVM did not run a guest here/' "$CONF"
    log "KVM did not run a test guest within ${KVM_PROBE_TIMEOUT_S}s: ${CONF} now has domain_type = \"qemu\" (TCG)"
  else
    warn "KVM did not run a test guest within ${KVM_PROBE_TIMEOUT_S}s; set domain_type = \"qemu\" in ${CONF} if guests hang"
  fi
}

# ---------------------------------------------------------------- daemons

# True when the pid file names a live process whose command name is $2.
pidfile_alive() {
  local pidfile="$1" comm="$2" pid
  [ -r "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/${pid}/comm" ] && [ "$(cat "/proc/${pid}/comm" 2>/dev/null)" = "$comm" ]
}

daemon_running() {
  local name="$1" pidfile="$2"
  pidfile_alive "$pidfile" "$name" || pgrep -x "$name" >/dev/null 2>&1
}

# Runs a daemon's start command with its output in a file (never a pipe that a
# detached daemon could hold open); shows that output only when it fails.
run_quiet() {
  local what="$1" out rc=0
  shift
  out="$(mktemp /tmp/berth-install.XXXXXX)"
  TMP_FILES+=("$out")
  "$@" </dev/null >"$out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$out" >&2
    die "${what} failed (exit ${rc})"
  fi
}

wait_for_libvirt() {
  local deadline=$((SECONDS + LIBVIRT_TIMEOUT_S))
  # virsh can block forever on a hung daemon, hence timeout on every try. Not
  # `virsh version`: it makes libvirt look up QEMU's capabilities, which it
  # re-probes (4-8 s) on every call where /dev/kvm is not usable by libvirt-qemu.
  until timeout 10 virsh -c "$LIBVIRT_URI" list --all --name >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      timeout 10 virsh -c "$LIBVIRT_URI" list --all --name >&2 || true
      die "libvirt (${LIBVIRT_URI}) did not answer within ${LIBVIRT_TIMEOUT_S}s; see /var/log/libvirt/libvirtd.log"
    fi
    sleep 0.5
  done
  log "libvirt answers on ${LIBVIRT_URI}"
}

# Without udev (containers, CI), /dev/kvm stays root-only: libvirt then probes QEMU as root, finds KVM,
# re-checks as libvirt-qemu, finds none, and re-probes QEMU on every call (seconds per define).
# Give it the group and mode udev's rule would have set.
fix_kvm_node() {
  if [ -c /dev/kvm ] && [ "$(stat -c %G /dev/kvm)" = root ] && getent group kvm >/dev/null; then
    log "setting /dev/kvm to root:kvm 0660, as udev would"
    chgrp kvm /dev/kvm
    chmod 0660 /dev/kvm
  fi
}

# Without systemd: start each daemon only when it is not running already.
start_daemons_by_hand() {
  # Packages ship these, but virtlogd and ovs-ctl fail outright when a cleaned /var/log lacks them.
  mkdir -p /var/log/libvirt /var/log/openvswitch
  fix_kvm_node
  if daemon_running virtlogd /run/virtlogd.pid; then
    log "virtlogd already running"
  else
    log "starting virtlogd"
    run_quiet "virtlogd -d" virtlogd -d
  fi
  if daemon_running libvirtd /run/libvirtd.pid; then
    log "libvirtd already running"
  else
    log "starting libvirtd"
    run_quiet "libvirtd -d" libvirtd -d
  fi
  # ovs-ctl status checks both ovsdb-server and ovs-vswitchd through their pid files.
  if "$OVS_CTL" status >/dev/null 2>&1; then
    log "Open vSwitch already running"
  else
    log "starting Open vSwitch"
    run_quiet "ovs-ctl start" "$OVS_CTL" start --system-id=random
  fi
  wait_for_libvirt
}

start_daemons_systemd() {
  # Started if stopped, never restarted: restarting OVS would cut guests' network.
  systemctl enable --now virtlogd.service libvirtd.service openvswitch-switch.service
  wait_for_libvirt
}

# ---------------------------------------------------------------- berth service

listen_address() {
  local listen="${BERTH_LISTEN:-}"
  # berth.service does not see this shell's environment: only the config counts there.
  if has_systemd; then
    listen=""
  fi
  if [ -z "$listen" ] && [ -r "$CONF" ]; then
    # Top-level `listen = "host:port"` (before the first [table]).
    listen="$(awk '/^[[:space:]]*\[/ { exit } /^[[:space:]]*listen[[:space:]]*=/ { sub(/^[^=]*=[[:space:]]*/, ""); sub(/[[:space:]]*#.*$/, ""); gsub(/["'\'']/, ""); print; exit }' "$CONF")"
  fi
  printf '%s' "${listen:-$DEFAULT_LISTEN}"
}

health_url() {
  local listen host port
  listen="$(listen_address)"
  host="${listen%:*}"
  port="${listen##*:}"
  case "$host" in
    0.0.0.0 | "") host="127.0.0.1" ;; # a wildcard address is reached through loopback
    "[::]") host="[::1]" ;;
  esac
  printf 'http://%s:%s/healthz' "$host" "$port"
}

# True when the process is the installed berth (also after an upgrade replaced the file).
is_berth_pid() {
  local pid="$1" exe
  [ -d "/proc/${pid}" ] || return 1
  exe="$(readlink "/proc/${pid}/exe" 2>/dev/null || true)"
  [ "$exe" = "$BIN" ] || [ "$exe" = "${BIN} (deleted)" ] || [ "$(cat "/proc/${pid}/comm" 2>/dev/null)" = "berth" ]
}

stop_berth_pidfile() {
  local pid deadline
  [ -f "$PID_FILE" ] || return 0
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  if [ -n "$pid" ] && is_berth_pid "$pid"; then
    log "stopping berth (pid ${pid})"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT_S))
    while is_berth_pid "$pid"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        warn "berth (pid ${pid}) did not stop within ${STOP_TIMEOUT_S}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.2
    done
  fi
  rm -f -- "$PID_FILE"
}

# Waits until /healthz answers 200; $1 is the pid to watch (empty under systemd).
wait_healthy() {
  local pid="$1" url deadline
  url="$(health_url)"
  deadline=$((SECONDS + HEALTH_TIMEOUT_S))
  while :; do
    if curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then
      log "berth is healthy at ${url}"
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      berth_failed "berth (pid ${pid}) exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      curl -sS --max-time 2 "$url" >&2 || true
      berth_failed "berth did not answer ${url} within ${HEALTH_TIMEOUT_S}s"
    fi
    sleep 0.5
  done
}

berth_failed() {
  if has_systemd; then
    systemctl --no-pager status berth.service >&2 || true
    journalctl --no-pager -u berth.service -n 40 >&2 || true
  elif [ -f "$LOG_FILE" ]; then
    printf -- '--- last lines of %s ---\n' "$LOG_FILE" >&2
    tail -n 40 "$LOG_FILE" >&2 || true
  fi
  die "$1"
}

start_berth_by_hand() {
  local url pid
  stop_berth_pidfile
  url="$(health_url)"
  # Something else (a berth started some other way, another program) holds the port.
  if curl -sS --max-time 2 -o /dev/null "$url" 2>/dev/null; then
    die "something already answers at ${url} (not berth from ${PID_FILE}); stop it, then re-run"
  fi
  log "starting berth in the background (log ${LOG_FILE})"
  install -d -m 0755 "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
  touch "$LOG_FILE"
  chmod 0640 "$LOG_FILE"
  # berth appends its JSON lines to the file itself and reopens it on SIGHUP (logrotate); what it
  # prints outside its log (a crash) lands there too. setsid: its own session, so it outlives this shell.
  BERTH_LOG_FILE="$LOG_FILE" setsid nohup "$BIN" serve --config "$CONF" </dev/null >>"$LOG_FILE" 2>&1 &
  pid="$!"
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_healthy "$pid"
  log "berth running (pid ${pid}, pid file ${PID_FILE})"
}

install_unit() {
  [ -f "${REPO_DIR}/deploy/berth.service" ] || die "missing ${REPO_DIR}/deploy/berth.service"
  install -m 0644 -o root -g root "${REPO_DIR}/deploy/berth.service" "$UNIT_FILE"
  systemctl daemon-reload
  systemctl enable berth.service
  log "installed ${UNIT_FILE}"
}

start_berth_systemd() {
  # A berth started by hand earlier would hold the port.
  stop_berth_pidfile
  log "restarting berth.service"
  systemctl restart berth.service || berth_failed "systemctl restart berth.service failed"
  wait_healthy ""
}

# Without journald berth logs to ${LOG_FILE}: logrotate rotates it and SIGHUPs berth to reopen it.
install_logrotate() {
  local src="${REPO_DIR}/deploy/logrotate/berth" tmp="${LOGROTATE_FILE}.new.$$"
  [ -f "$src" ] || die "missing ${src}"
  TMP_FILES+=("$tmp")
  install -d -m 0755 "$(dirname "$LOGROTATE_FILE")"
  # The file names the default paths; under BERTH_ROOT they move with it.
  sed -e "s#/var/log/berth.log#${LOG_FILE}#g" -e "s#/run/berth.pid#${PID_FILE}#g" "$src" >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$LOGROTATE_FILE"
  log "installed ${LOGROTATE_FILE}"
}

# ---------------------------------------------------------------- uninstall

# Before the data directory goes: berth's VMs stopped and undefined, its networks and storage pool removed,
# by the binary itself (libvirt through berth, matched by the installation's metadata, never by name).
teardown_libvirt() {
  local out conf="$CONF"
  if [ ! -d "$DATA_DIR" ]; then
    return 0
  fi
  if [ ! -x "$BIN" ]; then
    die "refusing to purge: ${BIN} is missing, so berth's VMs (whose disks are in ${DATA_DIR}) cannot be found and stopped; run ./install.sh --no-start, then --uninstall --purge again; nothing was removed"
  fi
  if [ ! -f "$conf" ]; then
    conf="$(mktemp /tmp/berth-install.XXXXXX)"
    TMP_FILES+=("$conf")
  fi
  # The data directory this script purges is the one whose VMs are stopped, whatever the config says.
  if ! out="$(BERTH_DATA_DIR="$DATA_DIR" "$BIN" teardown --config "$conf" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "refusing to purge: berth's VMs, networks or storage pool could not all be removed (above); kept ${CONF_DIR} and ${DATA_DIR}"
  fi
  printf '%s\n' "$out"
}

uninstall() {
  if has_systemd; then
    if [ -f "$UNIT_FILE" ] || systemctl cat berth.service >/dev/null 2>&1; then
      log "stopping and disabling berth.service"
      systemctl disable --now berth.service || true
    fi
    rm -f -- "$UNIT_FILE"
    systemctl daemon-reload
    systemctl reset-failed berth.service >/dev/null 2>&1 || true
  fi
  stop_berth_pidfile
  if [ "$PURGE" -eq 1 ]; then
    teardown_libvirt
  fi
  rm -f -- "$BIN" "$LOGROTATE_FILE"
  log "removed ${BIN}"
  if [ "$PURGE" -eq 1 ]; then
    rm -rf -- "$CONF_DIR" "$DATA_DIR"
    rm -f -- "$LOG_FILE"
    log "purged ${CONF_DIR}, ${DATA_DIR} and ${LOG_FILE}"
  else
    log "kept ${CONF_DIR} and ${DATA_DIR} (use --uninstall --purge to remove them)"
  fi
}

# ---------------------------------------------------------------- main

main() {
  parse_args "$@"
  if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (try: sudo $0 $*)"
  fi

  if [ "$UNINSTALL" -eq 1 ]; then
    uninstall
    return 0
  fi

  step "packages" install_packages
  step "bun" install_bun
  step "build" build_berth
  step "binary" install_binary
  step "config" install_config
  step "demo image" build_demo_image
  step "domain type" choose_domain_type

  if has_systemd; then
    log "systemd is PID 1: installing berth.service"
    step "systemd unit" install_unit
    step "libvirt/OVS" start_daemons_systemd
    if [ "$NO_START" -eq 1 ]; then
      log "--no-start: berth.service enabled, not started"
    else
      step "berth start" start_berth_systemd
    fi
  else
    log "no systemd as PID 1: starting the daemons by hand"
    step "logrotate" install_logrotate
    step "libvirt/OVS" start_daemons_by_hand
    if [ "$NO_START" -eq 1 ]; then
      log "--no-start: berth not started (start it with: ${BIN} serve --config ${CONF})"
    else
      step "berth start" start_berth_by_hand
    fi
  fi
  log "done"
}

main "$@"
