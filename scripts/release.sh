#!/usr/bin/env bash
# A release with its dependencies, for gateways that cannot reach a package registry:
#   scripts/release.sh [--out DIR]
# Run in a built checkout (npm ci) on a machine of the gateways' kind (the same CPU architecture
# and Node major version: better-sqlite3 and serialport are native and built for this one). It
# packs the checkout as npm would, puts its production dependencies beside it (this checkout's,
# already built; the development tools pruned, offline), records what it was built for in
# package/RELEASE, and writes estate-gateway-VERSION-linux-ARCH-nodeMAJOR.tgz. Install it with
#   sudo bash deploy/install.sh --release estate-gateway-VERSION-linux-ARCH-nodeMAJOR.tgz ...
# which runs no npm at all.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$HERE/releases"   # not under dist/: npm pack would take old releases into the next one
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
    *) echo "release.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
NPM="${ESTATE_GATEWAY_NPM:-npm}"
cd "$HERE"
[ -f dist/bundle/cli.js ] || { echo "release.sh: the checkout is not built: run npm ci first" >&2; exit 1; }
[ -d node_modules/better-sqlite3 ] || { echo "release.sh: no node_modules: run npm ci first" >&2; exit 1; }

VERSION="$(node -p "require('./package.json').version")"
ARCH="$(node -p 'process.arch')"
MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
"$NPM" pack --ignore-scripts --pack-destination "$STAGE" > /dev/null
tar -xzf "$STAGE/estate-gateway-$VERSION.tgz" -C "$STAGE"
cp -a node_modules "$STAGE/package/node_modules"
cp package-lock.json "$STAGE/package/"
(cd "$STAGE/package" && "$NPM" prune --omit=dev --offline --no-audit --no-fund > /dev/null && find node_modules -type d -empty -delete)
printf 'linux %s node%s\n' "$ARCH" "$MAJOR" > "$STAGE/package/RELEASE"
mkdir -p "$OUT"
FILE="$OUT/estate-gateway-$VERSION-linux-$ARCH-node$MAJOR.tgz"
tar -czf "$FILE" -C "$STAGE" package
echo "$FILE"
