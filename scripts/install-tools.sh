#!/usr/bin/env bash
# Installs the build tools Tidings needs, skipping whatever is already present.
# Why the detours: see docs/toolchain.md — both CLIs' published lockfiles pin crates
# this machine's Rust or registry cannot use, so we install them from a patched copy.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
# The wasm-bindgen CLI must match the library exactly; Cargo.lock is the single source.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
SCRATCH="${XDG_CACHE_HOME:-$HOME/.cache}/tidings-tools"
mkdir -p "$SCRATCH"

log() { printf '\033[1m[tools]\033[0m %s\n' "$*"; }

# Copies a crate's published source out of the registry cache (downloading it if needed).
crate_source() {
  local name=$1 version=$2 dir
  dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  if [ -z "$dir" ]; then
    cargo info --quiet "$name@$version" >/dev/null 2>&1 || true
    dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  fi
  if [ -z "$dir" ]; then
    # `cargo info` does not always unpack; a throwaway fetch of a dependent crate does.
    local probe="$SCRATCH/fetch-$name"
    rm -rf "$probe"; cargo new --quiet --vcs none "$probe"
    (cd "$probe" && cargo add --quiet "$name@=$version" && cargo fetch --quiet)
    dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" | head -n1)
  fi
  rm -rf "$SCRATCH/$name-$version"
  cp -r "$dir" "$SCRATCH/$name-$version"
  # Its own rust-toolchain.toml would send rustup after a toolchain we cannot download.
  rm -f "$SCRATCH/$name-$version/rust-toolchain.toml" "$SCRATCH/$name-$version/rust-toolchain"
  echo "$SCRATCH/$name-$version"
}

# `make lint` runs both on every test run.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  log "adding rustfmt and clippy"
  rustup component add rustfmt clippy
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes on 2 cores)"
  src=$(crate_source cargo-leptos "$CARGO_LEPTOS_VERSION")
  (cd "$src" && cargo update --quiet -p cargo-util-schemas --precise 0.14.1 \
    && CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
       cargo install --path . --locked --features no_downloads)
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 9 minutes)"
  src=$(crate_source wasm-bindgen-cli "$WASM_BINDGEN_VERSION")
  (cd "$src" && { cargo update --quiet -p webpki-roots --precise 1.0.10 2>/dev/null || true; } \
    && cargo install --path . --locked --force)
fi

log "tools ready: $(cargo leptos --version), $(wasm-bindgen --version)"
