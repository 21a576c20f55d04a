#!/usr/bin/env bash
# Builds the real container/Dockerfile without a Docker engine or Docker Hub, with Debian's buildah
# (vfs storage, chroot isolation, as root), and prints the image's size and each layer's.
#
# The Dockerfile's base images are build arguments. Docker Hub being out of reach, they are local
# stand-ins, built once and cached:
#   - code-server: a Debian bookworm root file system from Debian's packages (mmdebstrap: minbase,
#     ca-certificates, curl, git, dumb-init, procps) with the user coder (uid 1000), and a stand-in
#     /usr/bin/code-server (test/fakes/code-server-standin: answers /healthz and / on its bind-addr;
#     code-server itself is not packaged for Debian), trusting the host's CA bundle
#     (NODE_EXTRA_CA_CERTS) so npm works behind a TLS-intercepting proxy;
#   - node: the host's node binary and npm under /usr/local, as the official image has them.
# Everything else is the real build: apt-get inside the image, the pinned Claude Code CLI from the
# npm registry, the scripts.
#
#   bench/image-build.sh            build (stand-ins cached), print the sizes
#   IMAGE=name:tag bench/image-build.sh
#
# Environment: DEVFLOW_BUILDAH_ROOT (storage, default /var/tmp/devflow-buildah), IMAGE (default
# localhost/devflow-workspace:standin). Needs root, buildah and mmdebstrap (apt-get install buildah
# mmdebstrap).
# shellcheck disable=SC2016 # a hook for the chroot and a node program, not for this shell
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT_DIR=${DEVFLOW_BUILDAH_ROOT:-/var/tmp/devflow-buildah}
IMAGE=${IMAGE:-localhost/devflow-workspace:standin}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CODE_SERVER_STANDIN=localhost/devflow-standin/code-server:$SUITE
NODE_STANDIN=localhost/devflow-standin/node:$(node --version | tr -d v)

for tool in buildah mmdebstrap node; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install buildah mmdebstrap)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "run as root: buildah's vfs storage and chroot isolation need it here" >&2; exit 2; }

mkdir -p "$ROOT_DIR"
b() {
  buildah --root "$ROOT_DIR/storage" --runroot "$ROOT_DIR/run" --storage-driver vfs "$@"
}
export BUILDAH_ISOLATION=chroot

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
exists() { b inspect --type image "$1" >/dev/null 2>&1; }

if ! exists "$CODE_SERVER_STANDIN"; then
  started=$(now)
  rootfs=$ROOT_DIR/code-server-$SUITE.tar
  if [ ! -s "$rootfs" ]; then
    echo "== mmdebstrap $SUITE (minbase + ca-certificates curl git dumb-init procps, user coder)"
    mmdebstrap --quiet --variant=minbase --include=ca-certificates,curl,git,dumb-init,procps \
      --customize-hook='chroot "$1" useradd --create-home --uid 1000 --shell /bin/bash coder' \
      "$SUITE" "$rootfs.tmp" "$MIRROR"
    mv "$rootfs.tmp" "$rootfs"
  fi
  ctr=$(b from scratch)
  b add "$ctr" "$rootfs" /
  b copy --chmod 0755 "$ctr" test/fakes/code-server-standin /usr/bin/code-server
  # Trust what this machine trusts: its egress may go through a proxy with a CA of its own, which
  # npm inside the build (Node's own CA list otherwise) must accept. Only in the stand-in.
  b copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/host-ca-bundle.crt
  b config --user coder --workingdir /home/coder --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-bundle.crt "$ctr"
  b commit --quiet --rm "$ctr" "$CODE_SERVER_STANDIN" >/dev/null
  echo "stand-in $CODE_SERVER_STANDIN built in $(elapsed "$started")s"
fi

if ! exists "$NODE_STANDIN"; then
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  ctr=$(b from scratch)
  b copy "$ctr" "$(readlink -f "$(command -v node)")" /usr/local/bin/node
  b copy "$ctr" "$npm_dir" /usr/local/lib/node_modules/npm
  b commit --quiet --rm "$ctr" "$NODE_STANDIN" >/dev/null
  echo "stand-in $NODE_STANDIN built (the host's node $(node --version))"
fi

echo "== buildah bud container/Dockerfile -> $IMAGE"
started=$(now)
b bud --quiet --layers --format docker --build-arg "CODE_SERVER_IMAGE=$CODE_SERVER_STANDIN" --build-arg "NODE_IMAGE=$NODE_STANDIN" \
  --tag "$IMAGE" --file container/Dockerfile container/ >/dev/null
build_seconds=$(elapsed "$started")
# buildah leaves the working containers of stages that are only copied from (vfs: full copies).
b containers --format '{{.ContainerName}}' | grep -E -- '-working-container(-[0-9]+)?$' | xargs -r buildah --root "$ROOT_DIR/storage" --runroot "$ROOT_DIR/run" --storage-driver vfs rm >/dev/null

echo "== $IMAGE"
b inspect --type image "$IMAGE" | node -e '
  const image = JSON.parse(require("fs").readFileSync(0, "utf8"))
  const history = (image.OCIv1.history || []).filter((h) => !h.empty_layer)
  const layers = image.Manifest ? JSON.parse(image.Manifest).layers || [] : []
  const mb = (n) => (n / 1e6).toFixed(1).padStart(8) + " MB"
  let total = 0
  layers.forEach((layer, i) => {
    total += layer.size
    const made = (history[i] && history[i].created_by || "").replace(/\s+/g, " ").replace(/^\/bin\/sh -c #\(nop\) /, "")
    const step = (made === "" || made === "/bin/sh" ? "(the code-server base image)" : made).slice(0, 110)
    console.log(`layer ${String(i + 1).padStart(2)} ${mb(layer.size)}  ${step}`)
  })
  console.log(`image    ${mb(total)}  (${layers.length} layers, sizes as stored, uncompressed)`)
'
echo "build ${build_seconds}s (base stand-ins cached; apt-get and npm inside the build)"
