#!/usr/bin/env bash
# Builds a local stand-in for the Dockerfile's default base image (node:<version>-slim) where no
# image registry is reachable: a Debian bookworm minbase made with debootstrap, plus a Node.js
# binary and npm laid out as the official image lays them out (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm). The image is imported under a tag that names the Node version
# and this recipe's revision, so a second run finds it and returns at once.
#
#   scripts/make-base-image.sh                 # prints the tag, e.g. localhost/gatehouse-base:bookworm-node20.20.2-r1
#   podman build --build-arg BASE_IMAGE=$(scripts/make-base-image.sh) .
#
# Environment:
#   NODE_BIN      Node.js binary to copy in (default: the `node` on PATH). Its npm is taken from
#                 <prefix>/lib/node_modules/npm next to it.
#   BASE_TAG      image tag (default below).
#   DEBIAN_MIRROR mirror for debootstrap (default: the first Debian URI in /etc/apt).
#
# The machine's CA bundle is copied in and named by NODE_EXTRA_CA_CERTS, so `npm ci` inside a build
# trusts the same TLS roots as the host (some networks intercept TLS with their own CA). The
# official node images have no such need; this base is for local builds and tests only.
set -euo pipefail

RECIPE=r1
NODE_BIN=${NODE_BIN:-$(command -v node)}
NODE_BIN=$(readlink -f "$NODE_BIN")
NODE_VERSION=$("$NODE_BIN" --version)
NODE_VERSION=${NODE_VERSION#v}
BASE_TAG=${BASE_TAG:-localhost/gatehouse-base:bookworm-node${NODE_VERSION}-${RECIPE}}

log() { echo "make-base-image: $*" >&2; }

if podman image exists "$BASE_TAG"; then
  log "$BASE_TAG exists"
  echo "$BASE_TAG"
  exit 0
fi

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { log "$tool is not installed (apt-get install -y podman runc debootstrap)"; exit 1; }
done

NPM_DIR=$(dirname "$(dirname "$NODE_BIN")")/lib/node_modules/npm
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { log "no npm next to $NODE_BIN (looked in $NPM_DIR)"; exit 1; }

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(grep -hoE '^URIs:[[:space:]]*[^[:space:]]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}') || true
  if [ -z "$uri" ]; then
    uri=$(grep -hoE '^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+/debian/?[[:space:]]' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $NF}') || true
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

ROOTFS=$(mktemp -d /var/tmp/gatehouse-base.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT

MIRROR=$(mirror)
log "debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
  tail -30 "$ROOTFS.log" >&2
  rm -f "$ROOTFS.log"
  exit 1
}
rm -f "$ROOTFS.log"

log "adding node $NODE_VERSION and npm"
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"

# What a slim image leaves out: package caches and lists, documentation.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*

log "importing as $BASE_TAG"
tar -C "$ROOTFS" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  - "$BASE_TAG" >/dev/null
echo "$BASE_TAG"
