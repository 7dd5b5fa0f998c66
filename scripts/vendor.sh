#!/usr/bin/env bash
# Vendor browser libraries from the npm registry into web/static/vendor/ (no CDN at run time).
# Versions are pinned in scripts/vendor.lock; the vendored files are committed, so this only
# runs when one is missing or a pin changed.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=web/static/vendor
mkdir -p "$DEST"
while read -r pkg version files; do
  [ -z "$pkg" ] || [ "${pkg:0:1}" = "#" ] && continue
  stamp="$DEST/.$pkg-$version"
  [ -f "$stamp" ] && continue
  command -v npm >/dev/null || { echo "npm is needed to vendor $pkg" >&2; exit 1; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$DEST/$pkg"
  for f in ${files//,/ }; do cp "$tmp/package/$f" "$DEST/$pkg/"; done
  cp "$tmp/package/LICENSE"* "$DEST/$pkg/" 2>/dev/null || true
  rm -f "$DEST"/."$pkg"-*; touch "$stamp"; rm -rf "$tmp"
  echo "vendored $pkg@$version"
done < scripts/vendor.lock
