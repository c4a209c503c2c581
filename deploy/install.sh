#!/usr/bin/env bash
# Installs estate-gateway as a service on Raspberry Pi OS Bookworm (or any Debian 12 with systemd).
#
#   sudo deploy/install.sh [--site-id ID --gateway-id ID [--site-name NAME]] [--config FILE]
#
# By default it installs the checkout it is run from (built and packed with npm); no package
# registry is needed. Idempotent: it changes only what differs, says what it changed, and a
# second run changes nothing. It never overwrites a site config an installer has edited (give
# --config to replace it; the old one is kept as site.yaml.bak).
#
#   --package FILE   install this release tarball (estate-gateway-X.Y.Z.tgz, from npm pack)
#   --registry SPEC  install from the npm registry instead (e.g. estate-gateway@0.2.0), only
#                    when you name it: nothing is fetched from a registry otherwise
#   --config FILE    the site config to install as /etc/estate-gateway/site.yaml
#   --site-id ID --gateway-id ID --site-name NAME
#                    fill the starter config written when there is none yet; ids are
#                    lowercase letters, digits and dashes (music-square, gw-north)
#   --release FILE   install a release made with its dependencies (scripts/release.sh, on a
#                    machine of this one's kind): no npm and no network at all
#   --root DIR       install under DIR instead of / (a throwaway root: tests, image builds);
#                    users go into DIR/etc/passwd, systemctl is not called
#   --no-start       install and enable, but do not start or restart the service
#   -h, --help       this help
# Environment: ESTATE_GATEWAY_NPM overrides the npm command (an offline mirror wrapper, tests).
set -euo pipefail

PACKAGE=""
RELEASE=""
REGISTRY=""
CONFIG=""
SITE_ID=""
SITE_NAME=""
GATEWAY_ID=""
ROOT=""
START=1
SERVICE_USER="estate-gateway"
NPM="${ESTATE_GATEWAY_NPM:-npm}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIN_NODE="20.19.0"

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --package) PACKAGE="${2:?--package needs a tarball}"; shift 2 ;;
    --release) RELEASE="${2:?--release needs a release tarball (scripts/release.sh)}"; shift 2 ;;
    --registry) REGISTRY="${2:?--registry needs a spec such as estate-gateway@0.2.0}"; shift 2 ;;
    --config) CONFIG="${2:?--config needs a file}"; shift 2 ;;
    --site-id) SITE_ID="${2:?--site-id needs a value}"; shift 2 ;;
    --site-name) SITE_NAME="${2:?--site-name needs a value}"; shift 2 ;;
    --gateway-id) GATEWAY_ID="${2:?--gateway-id needs a value}"; shift 2 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

# Everything given is checked before anything is written.
check_id() { # flag value
  [ -z "$2" ] && return 0
  if ! [[ "$2" =~ ^[a-z0-9][a-z0-9-]*$ ]]; then
    local suggestion
    suggestion="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9-]\{1,\}/-/g' -e 's/^-*//' -e 's/-*$//')"
    die "$1 \"$2\": expected lowercase letters, digits and dashes, e.g. $1 ${suggestion:-my-estate}"
  fi
}
check_id --site-id "$SITE_ID"
check_id --gateway-id "$GATEWAY_ID"
[ -n "$PACKAGE" ] && [ -n "$REGISTRY$RELEASE" ] && die "give one of --package, --release or --registry"
[ -n "$REGISTRY" ] && [ -n "$RELEASE" ] && die "give one of --package, --release or --registry"
if [ -n "$RELEASE" ]; then
  [ -f "$RELEASE" ] || die "--release $RELEASE: no such file (make one with scripts/release.sh, in a built checkout)"
  RELEASE="$(cd "$(dirname "$RELEASE")" && pwd)/$(basename "$RELEASE")"
  # its native modules were built for one kind of machine: refuse another before anything is written
  BUILT_FOR="$(tar -xOzf "$RELEASE" package/RELEASE 2> /dev/null)" || die "--release $RELEASE has no package/RELEASE: it was not made by scripts/release.sh (for a plain npm pack tarball use --package)"
  HERE_IS="linux $(node -p 'process.arch') node$(node -p 'process.versions.node.split(".")[0]')"
  [ "$BUILT_FOR" = "$HERE_IS" ] || die "--release $RELEASE was built for $BUILT_FOR; this machine is $HERE_IS: make the release on a machine like this one"
fi
if [ -n "$PACKAGE" ]; then
  [ -f "$PACKAGE" ] || die "--package $PACKAGE: no such file (build one with: npm pack, in a checkout)"
  PACKAGE="$(cd "$(dirname "$PACKAGE")" && pwd)/$(basename "$PACKAGE")"
fi
[ -z "$CONFIG" ] || [ -f "$CONFIG" ] || die "--config $CONFIG: no such file"
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 ...)"
ROOT="${ROOT%/}"
ETC="$ROOT/etc/estate-gateway"
DATA="$ROOT/var/lib/estate-gateway"
UNIT_DIR="$ROOT/etc/systemd/system"
PREFIX="$ROOT/usr/local"
CHANGED=()

# 1. Node.js >= 20.19 (on a Pi, Node 22 or 24 LTS from NodeSource or the official tarballs).
command -v node > /dev/null || die "Node.js is not installed: install Node 22 LTS first (https://nodejs.org or NodeSource)"
NODE_VERSION="$(node -p 'process.versions.node')"
if [ "$(printf '%s\n%s\n' "$MIN_NODE" "$NODE_VERSION" | sort -V | head -n1)" != "$MIN_NODE" ]; then
  die "Node.js $NODE_VERSION is too old: estate-gateway needs >= $MIN_NODE (install Node 22 LTS)"
fi

# 2. The service user, in the gpio (Pi header), dialout (serial adapters and readers) and input
# (keyboard-mode QR and card readers) groups.
user_args=()
if [ -n "$ROOT" ]; then
  user_args=(--prefix "$ROOT")
  # An empty root (an image being built) has no user database yet: useradd --prefix needs one.
  install -d -m 0755 "$ROOT/etc"
  for db in passwd group; do [ -e "$ROOT/etc/$db" ] || install -m 0644 /dev/null "$ROOT/etc/$db"; done
  for db in shadow gshadow; do [ -e "$ROOT/etc/$db" ] || install -m 0640 /dev/null "$ROOT/etc/$db"; done
fi
has_user() { grep -qs "^$1:" "$ROOT/etc/passwd"; }
has_group() { grep -qs "^$1:" "$ROOT/etc/group"; }
in_group() { grep -Eqs "^$1:[^:]*:[^:]*:(.*,)?$2(,|$)" "$ROOT/etc/group"; }
if ! has_user "$SERVICE_USER"; then
  useradd "${user_args[@]}" --system --user-group --no-create-home --home-dir /var/lib/estate-gateway --shell /usr/sbin/nologin "$SERVICE_USER"
  CHANGED+=("user $SERVICE_USER")
fi
for group in gpio dialout input; do
  if ! has_group "$group"; then
    groupadd "${user_args[@]}" --system "$group"
    CHANGED+=("group $group")
  fi
  if ! in_group "$group" "$SERVICE_USER"; then
    usermod "${user_args[@]}" --append --groups "$group" "$SERVICE_USER"
    CHANGED+=("$SERVICE_USER in $group")
  fi
done

# 3. Directories: config readable by the service, data writable only by it.
ensure_dir() { # path mode owner group
  if [ ! -d "$1" ]; then
    install -d -m "$2" "$1"
    CHANGED+=("directory ${1#"$ROOT"}")
  fi
  if [ "$(stat -c %a "$1")" != "${2#0}" ]; then chmod "$2" "$1"; CHANGED+=("mode of ${1#"$ROOT"}"); fi
  local uid gid
  uid="$(awk -F: -v u="$3" '$1 == u { print $3 }' "$ROOT/etc/passwd")"
  gid="$(awk -F: -v g="$4" '$1 == g { print $3 }' "$ROOT/etc/group")"
  if [ "$(stat -c %u:%g "$1")" != "$uid:$gid" ]; then chown "$uid:$gid" "$1"; CHANGED+=("owner of ${1#"$ROOT"}"); fi
}
ensure_dir "$ETC" 0750 root "$SERVICE_USER"
ensure_dir "$DATA" 0750 "$SERVICE_USER" "$SERVICE_USER"

# 4. The package, only when the wanted version is not the installed one: this checkout (built
#    and packed here), a tarball (--package), or the registry only when named (--registry).
installed_version() {
  local pj="$PREFIX/lib/node_modules/estate-gateway/package.json"
  if [ -f "$pj" ]; then node -p "require('$pj').version"; fi
}
tarball_version() { tar -xOzf "$1" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).version'; }
# npm's own last words, then what to do about it.
npm_or_hint() { # what hint npm-args...
  local what="$1" hint="$2" log
  shift 2
  log="$(mktemp)"
  if ! "$NPM" "$@" 2> "$log"; then
    tail -n 5 "$log" | sed 's/^/  npm: /' >&2
    rm -f "$log"
    die "$what failed. $hint"
  fi
  rm -f "$log"
}
CHECKOUT="$(cd "$HERE/.." && pwd)"
if [ -n "$REGISTRY" ]; then
  SPEC="$REGISTRY"
  WANTED="$("$NPM" view "$REGISTRY" version 2> /dev/null)" \
    || die "the registry has no $REGISTRY (or cannot be reached). Install from a checkout (run deploy/install.sh inside it) or give --package FILE.tgz"
elif [ -n "$PACKAGE" ]; then
  SPEC="$PACKAGE"
  WANTED="$(tarball_version "$PACKAGE")" || die "--package $PACKAGE is not an npm package tarball"
elif [ -n "$RELEASE" ]; then
  SPEC=""
  WANTED="$(tarball_version "$RELEASE")" || die "--release $RELEASE is not a release tarball"
else
  grep -qs '"name": "estate-gateway"' "$CHECKOUT/package.json" \
    || die "no checkout around $0: run deploy/install.sh inside an estate-gateway checkout, or give --package FILE.tgz"
  WANTED="$(node -p "require('$CHECKOUT/package.json').version")"
  SPEC=""
fi
HAVE="$(installed_version)"
PACKAGE_CHANGED=0
if [ -n "$RELEASE" ] && [ "$WANTED" != "$HAVE" ]; then
  # A release with its dependencies: unpacked beside the old one and swapped in; npm never runs.
  say "installing estate-gateway $WANTED from $RELEASE (installed: ${HAVE:-none}; no npm, no network)"
  install -d -m 0755 "$PREFIX/lib/node_modules" "$PREFIX/bin"
  STAGE_DIR="$(mktemp -d "$PREFIX/lib/node_modules/.estate-gateway-XXXXXX")"
  tar -xzf "$RELEASE" -C "$STAGE_DIR" --no-same-owner
  rm -rf "$PREFIX/lib/node_modules/estate-gateway"
  mv "$STAGE_DIR/package" "$PREFIX/lib/node_modules/estate-gateway"
  rm -rf "$STAGE_DIR"
  ln -sfn ../lib/node_modules/estate-gateway/bin/estate-gateway.js "$PREFIX/bin/estate-gateway"
  CHANGED+=("estate-gateway ${HAVE:-none} -> $WANTED")
  PACKAGE_CHANGED=1
elif [ "$WANTED" != "$HAVE" ]; then
  if [ -z "$SPEC" ]; then
    # A clean checkout has no build yet: install its tools and build it (npm ci runs the build).
    if [ ! -f "$CHECKOUT/dist/bundle/cli.js" ]; then
      say "building the checkout $CHECKOUT (npm ci; a few minutes on a Pi)"
      (cd "$CHECKOUT" && npm_or_hint "building the checkout" "Check the network to the npm registry, or build a tarball elsewhere (npm ci && npm pack) and give --package FILE.tgz." ci --no-audit --no-fund > /dev/null)
    fi
    PACK_DIR="$(mktemp -d)"
    (cd "$CHECKOUT" && npm_or_hint "packing the checkout" "Run npm pack in $CHECKOUT to see why." pack --ignore-scripts --pack-destination "$PACK_DIR" > /dev/null)
    SPEC="$(find "$PACK_DIR" -name 'estate-gateway-*.tgz' | head -n 1)"
    [ -n "$SPEC" ] || die "npm pack made no tarball in $PACK_DIR"
  fi
  say "installing estate-gateway $WANTED (installed: ${HAVE:-none})"
  npm_or_hint "installing estate-gateway $WANTED" "npm fetches the package's own dependencies (better-sqlite3, ...) from the registry and builds them: check the network." \
    install --global --prefix "$PREFIX" --omit=dev --no-audit --no-fund "$SPEC"
  CHANGED+=("estate-gateway ${HAVE:-none} -> $WANTED")
  PACKAGE_CHANGED=1
fi
PKG_DIR="$PREFIX/lib/node_modules/estate-gateway"
BIN="$PREFIX/bin/estate-gateway"
[ -x "$BIN" ] || die "npm did not install $BIN"

# 5. The systemd unit, from the installed package (or beside this script).
UNIT_SRC="$PKG_DIR/systemd/estate-gateway.service"
[ -f "$UNIT_SRC" ] || UNIT_SRC="$HERE/../systemd/estate-gateway.service"
install -d -m 0755 "$UNIT_DIR"
UNIT_CHANGED=0
if ! cmp -s "$UNIT_SRC" "$UNIT_DIR/estate-gateway.service"; then
  install -m 0644 "$UNIT_SRC" "$UNIT_DIR/estate-gateway.service"
  CHANGED+=("unit estate-gateway.service")
  UNIT_CHANGED=1
fi

# 6. The site config: the installer's file, or a starter one; never an edited one overwritten.
SITE="$ETC/site.yaml"
CONFIG_CHANGED=0
if [ -n "$CONFIG" ]; then
  [ -f "$CONFIG" ] || die "--config $CONFIG: no such file"
  if ! validation="$("$BIN" validate --config "$CONFIG" 2>&1)"; then
    printf '%s\n' "$validation" | sed 's/^/  /' >&2
    die "--config $CONFIG is not valid (the lines above); nothing was changed"
  fi
  if ! cmp -s "$CONFIG" "$SITE"; then
    [ -f "$SITE" ] && cp -p "$SITE" "$SITE.bak"
    install -m 0640 -o root -g "$(awk -F: -v g="$SERVICE_USER" '$1 == g { print $3 }' "$ROOT/etc/group")" "$CONFIG" "$SITE"
    CHANGED+=("config site.yaml")
    CONFIG_CHANGED=1
  fi
elif [ ! -f "$SITE" ]; then
  # Written by the gateway's own code (estate-gateway init): a name with quotes, slashes or
  # Chinese becomes a proper YAML string, and the result is validated before it is kept.
  host="$(hostname -s 2> /dev/null | tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9-]\{1,\}/-/g' -e 's/^-*//' -e 's/-*$//')"
  rm -f "$SITE.new"
  "$BIN" init --site-id "${SITE_ID:-my-estate}" --gateway-id "${GATEWAY_ID:-${host:-gateway}}" --site-name "${SITE_NAME:-My estate}" --output "$SITE.new" > /dev/null \
    || die "could not write a starter config (see the lines above)"
  chmod 0640 "$SITE.new"
  chgrp "$(awk -F: -v g="$SERVICE_USER" '$1 == g { print $3 }' "$ROOT/etc/group")" "$SITE.new"
  mv "$SITE.new" "$SITE"
  CHANGED+=("starter config site.yaml")
  CONFIG_CHANGED=1
fi
if ! validation="$("$BIN" validate --config "$SITE" 2>&1)"; then
  printf '%s\n' "$validation" | sed 's/^/  /'
  say "warning: ${SITE#"$ROOT"} is not valid yet (the lines above); fix it, then: estate-gateway validate --config ${SITE#"$ROOT"}"
fi

# 7. Enable and (re)start the service.
if [ -z "$ROOT" ]; then
  [ "$UNIT_CHANGED" -eq 1 ] && systemctl daemon-reload
  if ! systemctl is-enabled --quiet estate-gateway; then
    systemctl enable estate-gateway
    CHANGED+=("service enabled")
  fi
  if [ "$START" -eq 1 ]; then
    if ! systemctl is-active --quiet estate-gateway; then
      systemctl start estate-gateway
      CHANGED+=("service started")
    elif [ $((PACKAGE_CHANGED + UNIT_CHANGED + CONFIG_CHANGED)) -gt 0 ]; then
      systemctl restart estate-gateway
      CHANGED+=("service restarted")
    fi
  fi
fi

if [ ${#CHANGED[@]} -eq 0 ]; then
  say "nothing to change: estate-gateway $WANTED is installed and configured"
else
  summary="$(printf '%s; ' "${CHANGED[@]}")"
  say "changed: ${summary%; }"
fi
say "next: edit ${SITE#"$ROOT"}, then estate-gateway doctor --config ${SITE#"$ROOT"}; logs: journalctl -u estate-gateway -f"
