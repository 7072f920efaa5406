#!/usr/bin/env bash
# End-to-end browser tests: builds the release binary if missing, installs playwright-core if
# missing, then runs e2e/tests/*.test.mjs with Node's test runner in headless /usr/bin/chromium.
# Set LAIHUA_E2E_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1/postgres) to run on PostgreSQL.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

if [ ! -x target/release/laihua ]; then
  echo "e2e: building target/release/laihua" >&2
  cargo build --release
fi

if [ ! -x /usr/bin/chromium ] && [ -z "${LAIHUA_E2E_CHROMIUM:-}" ]; then
  echo "e2e: /usr/bin/chromium is missing: apt-get install -y chromium fonts-noto-cjk" >&2
  exit 1
fi

if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/read-excel-file ] || [ ! -d e2e/node_modules/axe-core ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi

cd e2e
exec node --test --test-concurrency="${LAIHUA_E2E_CONCURRENCY:-3}" tests/*.test.mjs
