# Tidings — `make run` starts the app, `make test` runs every test. Both install what is
# missing first (see scripts/), so they work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# `cargo test` must compile with what cargo-leptos compiles the server with: the same
# RUSTFLAGS lets both share compiled dependencies, and Leptos reads LEPTOS_OUTPUT_NAME at
# compile time to name the wasm file the pages load (without it, the test build would
# overwrite target/debug/tidings with a server asking for a file that does not exist).
CARGO_LEPTOS_ENV := RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=tidings

.PHONY: run test tools test-deps build lint test-rust test-e2e release bench bench-page bench-postgres bench-subscribers screenshots

tools:
	@scripts/install-tools.sh

# --split: each admin page (a lazy route, see src/app.rs) becomes wasm chunks of its own,
# so the public page loads none of the admin's code.
build: tools
	cargo leptos build --split

## Build, then run Tidings on http://127.0.0.1:3000 (SQLite file ./tidings.db).
run: build
	target/debug/tidings

# cargo-leptos needs wasm-opt for release builds. npm's binaryen works; Debian's binaryen
# 108 optimises without error but breaks hydration (see docs/toolchain.md).
BINARYEN := $(HOME)/.cache/tidings-tools/binaryen
BINARYEN_VERSION := 132.0.0

## A release build (smaller wasm, faster server), packed into one archive in dist/ with
## the site files, a systemd unit, example settings and the README: about 15 minutes the
## first time.
release: tools
	@test -x $(BINARYEN)/node_modules/.bin/wasm-opt || npm install --prefix $(BINARYEN) --no-audit --no-fund --loglevel=error binaryen@$(BINARYEN_VERSION)
	PATH="$(BINARYEN)/node_modules/.bin:$$PATH" LEPTOS_HASH_FILES=true cargo leptos build --release --split --precompress
	@archive=$$(scripts/package-release.sh) && echo "Release archive: $$archive" && \
	  echo "Install it as README.md's 'Running in production' says, or try it: tar -xzf $$archive && cd $$(basename $$archive .tar.gz) && ./tidings"

test-deps:
	@scripts/install-test-deps.sh

## Every test: formatting and lints, Rust unit + integration tests, then Playwright in
## headless Chromium.
test: build test-deps lint test-rust test-e2e

## rustfmt and clippy (warnings are errors) on the server build, its tests and benches,
## and on the browser build for wasm32.
lint: tools
	cargo fmt --check
	$(CARGO_LEPTOS_ENV) cargo clippy --all-targets --features ssr -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --features hydrate -- -D warnings

# Unit and integration tests on SQLite, then the integration tests again on a throwaway
# PostgreSQL server (scripts/test-postgres.sh installs and starts it; stopped either way).
test-rust:
	$(CARGO_LEPTOS_ENV) cargo test --features ssr
	@scripts/test-postgres.sh start
	TIDINGS_TEST_POSTGRES=$$(scripts/test-postgres.sh url) $(CARGO_LEPTOS_ENV) cargo test --features ssr --test '*'; \
	  status=$$?; scripts/test-postgres.sh stop; exit $$status

test-e2e:
	cd end2end && npx playwright test

## The README's screenshots of the admin pages (docs/screenshots/), taken from a real run.
screenshots: build test-deps
	cd end2end && npx playwright test --config screenshots.config.ts

## Dispatch benchmark (release build): Tidings vs npm web-push on a loopback HTTPS/HTTP2
## sink. BENCH_SIZES=20000,200000 BENCH_CONCURRENCY=128 BENCH_NODE=1 are the defaults.
# (LEPTOS_OUTPUT_NAME as for `make release`, which shares target/release/tidings.)
bench:
	LEPTOS_OUTPUT_NAME=tidings cargo bench --features ssr --bench dispatch

## The public page on a release build: bytes on the wire before it works (target ≤ 150 KB),
## and SSR latency at 50 concurrent clients.
bench-page: release test-deps
	scripts/bench-page.sh

## The dispatch benchmark on a throwaway PostgreSQL with 1, 2 and 3 instances (Tidings only).
bench-postgres:
	@scripts/test-postgres.sh start
	BENCH_POSTGRES=$$(scripts/test-postgres.sh url) BENCH_INSTANCES=$${BENCH_INSTANCES:-1,2,3} BENCH_NODE=0 \
	  LEPTOS_OUTPUT_NAME=tidings cargo bench --features ssr --bench dispatch; \
	  status=$$?; scripts/test-postgres.sh stop; exit $$status

## Subscriber-list query times at 1,000,000 subscriptions (BENCH_SUBSCRIBERS to change).
bench-subscribers:
	LEPTOS_OUTPUT_NAME=tidings cargo bench --features ssr --bench subscribers
