#!/usr/bin/env bash
# Side-by-side HTTP benchmark: Clientele (SQLite, and PostgreSQL when PG_URL is set) and the
# reference emulator (@labdigital/commercetools-mock, via ../shared/peers/ct-mock/run.sh), same
# load generator, same machine, loopback only. Prints Markdown tables for docs/performance.md.
#
#   scripts/bench.sh [SEED] [MOCK_SEED] [DURATION] [CONCURRENCY] [SCENARIOS]
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench.sh 100000 10000 10 16
#   SEED_MODE=sql scripts/bench.sh 1000000 ...   # seed Clientele with scripts/seed.py, not HTTP
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${1:-100000}"
MOCK_SEED="${2:-10000}"
DURATION="${3:-10}"
CONC="${4:-16}"
SCENARIOS="${5:-get_by_id,get_by_key,create,update}"
PORT=18080
MOCK_PORT=18989
WORK="$(mktemp -d)"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p clientele-server --bin clientele --bench load
BIN="$TARGET/release/clientele"
LOAD="$(ls -t "$TARGET"/release/deps/load-* | grep -v '\.d$' | head -n1)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

run_clientele() { # label database-url seed-kind seed-target
  local label="$1" db="$2" seed_args=(--seed "$SEED")
  "$BIN" project create demo --languages en,de --database "$db" >/dev/null 2>&1 || true
  "$BIN" api-client create --project demo --scope manage_project:demo --client-id bench \
    --client-secret bench-secret --database "$db" >/dev/null 2>&1 || true
  if [ "${SEED_MODE:-http}" = sql ]; then
    local t0=$SECONDS
    python3 scripts/seed.py "$3" "$4" "$SEED" seed
    echo "seeded $SEED customers with scripts/seed.py in $((SECONDS - t0)) s" >&2
    seed_args=(--preseeded "$SEED" --prefix seed)
  fi
  RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:$PORT --database "$db" >"$WORK/$label.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/-/health" >/dev/null && break; sleep 0.1; done
  "$LOAD" --base "http://127.0.0.1:$PORT" --client-id bench --client-secret bench-secret \
    "${seed_args[@]}" --duration "$DURATION" --concurrency "$CONC" --label "$label" --scenarios "$SCENARIOS"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_clientele "clientele-sqlite ($SEED)" "sqlite://$WORK/bench.db" sqlite "$WORK/bench.db"
if [ -n "${PG_URL:-}" ]; then
  DB="clientele_bench_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $DB" >/dev/null
  run_clientele "clientele-postgres ($SEED)" "${PG_URL%/*}/$DB" postgres "${PG_URL%/*}/$DB"
  psql "$PG_URL" -qc "DROP DATABASE $DB WITH (FORCE)" >/dev/null || true
fi

[ "${SKIP_MOCK:-}" = 1 ] && exit 0
PORT_MOCK="$MOCK_PORT" bash ../shared/peers/ct-mock/run.sh "$MOCK_PORT" >"$WORK/mock.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 300); do curl -s "http://127.0.0.1:$MOCK_PORT/" >/dev/null 2>&1 && break; sleep 0.2; done
"$LOAD" --base "http://127.0.0.1:$MOCK_PORT" --client-id any --client-secret any \
  --seed "$MOCK_SEED" --duration "$DURATION" --concurrency "$CONC" --label "ct-mock ($MOCK_SEED)" --scenarios "$SCENARIOS"
