#!/usr/bin/env bash
# Packs a built Tidings into one archive that runs anywhere with glibc, with no source
# tree: the binary, the site files beside it (found there at start), the systemd unit, an
# example settings file and the README.
#
#   scripts/package-release.sh [--binary PATH] [--site DIR] [--out DIR]
#
# Defaults: target/release/tidings, target/site, dist/. `make release` runs it after the
# release build; tests/release.rs runs it on the test build. Prints the archive's path.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/release/tidings
site=target/site
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --site) site=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "package-release: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "package-release: no binary at $binary (build first: make release)" >&2; exit 1; }
compgen -G "$site/pkg/tidings*.js" > /dev/null || { echo "package-release: no built site in $site (build first: make release)" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
name="tidings-$version-$(uname -m)-linux"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name"
cp "$binary" "$stage/$name/tidings"
# A release build names its files by content and lists them in hash.txt beside the
# binary, where the server looks for it.
if [ -f "$(dirname "$binary")/hash.txt" ]; then cp "$(dirname "$binary")/hash.txt" "$stage/$name/"; fi
# Symbols and debug info are for developers; without them the binary is a fraction of
# the size. (Panics still name the function through the kept frame info.)
strip "$stage/$name/tidings"
cp -r "$site" "$stage/$name/site"
cp scripts/release/tidings.service scripts/release/tidings.env.example README.md "$stage/$name/"
mkdir -p "$out"
archive="$(cd "$out" && pwd)/$name.tar.gz"
tar -C "$stage" --owner=0 --group=0 -czf "$archive" "$name"
echo "$archive"
