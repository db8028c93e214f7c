#!/usr/bin/env bash
# CPU work per request: the CPU time the server process (and, on PostgreSQL, the database's
# backend processes serving it) spends per request, from /proc/PID/stat (utime + stime) before
# and after each scenario of the load generator. Unlike req/s, this hardly moves when other
# work shares the cores, so it compares builds on a busy machine.
#
#   scripts/cpu_per_request.sh BIN LOAD DB_URL SEED DURATION CONCURRENCY SCENARIOS
#   scripts/cpu_per_request.sh target/release/clientele target/release/deps/load-HASH \
#     sqlite:///tmp/cpu.db 20000 10 8 get_by_id,get_by_key,query_email
#
# The database is seeded with scripts/seed.py (SEED customers, prefix `seed`) when it holds no
# project yet. Prints one Markdown row per scenario: requests, req/s (noisy) and CPU µs/request.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1" LOAD="$2" DB="$3" SEED="$4" DURATION="$5" CONC="$6" SCENARIOS="$7"
PORT="${PORT:-18181}"
HZ="$(getconf CLK_TCK)"

cpu_ticks() { # pid...: summed utime+stime of the live ones, in clock ticks
  local sum=0 p f
  for p in "$@"; do
    f="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
    f="${f##*) }" # the fields after the command name
    set -- $f
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}
pg_pids() { # backend pids of this database
  [[ "$DB" == postgres* ]] || return 0
  psql "${DB%/*}/postgres" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '${DB##*/}'"
}

if "$BIN" project create demo --languages en,de --database "$DB" >/dev/null 2>&1; then
  "$BIN" api-client create --project demo --scope manage_project:demo --client-id bench \
    --client-secret bench-secret --database "$DB" >/dev/null
  if [[ "$DB" == sqlite* ]]; then
    python3 scripts/seed.py sqlite "${DB#sqlite://}" "$SEED" seed
  else
    python3 scripts/seed.py postgres "$DB" "$SEED" seed
  fi
fi
RUST_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --database "$DB" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/-/health" >/dev/null && break; sleep 0.1; done

echo "| scenario | concurrency | requests | req/s (noisy) | server CPU µs/req | database CPU µs/req |"
echo "|---|---|---|---|---|---|"
IFS=, read -ra LIST <<<"$SCENARIOS"
for s in "${LIST[@]}"; do
  # A short warm-up run opens the pool's connections, so their pids exist before measuring.
  "$LOAD" --base "http://127.0.0.1:$PORT" --client-id bench --client-secret bench-secret \
    --preseeded "$SEED" --prefix seed --duration 1 --concurrency "$CONC" --scenarios "$s" >/dev/null
  mapfile -t PG < <(pg_pids)
  s0="$(cpu_ticks "$SERVER")" d0="$(cpu_ticks "${PG[@]}")"
  row="$("$LOAD" --base "http://127.0.0.1:$PORT" --client-id bench --client-secret bench-secret \
    --preseeded "$SEED" --prefix seed --duration "$DURATION" --concurrency "$CONC" \
    --scenarios "$s" | tail -n1)"
  s1="$(cpu_ticks "$SERVER")" d1="$(cpu_ticks "${PG[@]}")"
  n="$(echo "$row" | awk -F'|' '{gsub(/ /,"",$5); print $5}')"
  rps="$(echo "$row" | awk -F'|' '{gsub(/ /,"",$6); print $6}')"
  awk -v s="$s" -v c="$CONC" -v n="$n" -v r="$rps" -v sc=$((s1 - s0)) -v dc=$((d1 - d0)) -v hz="$HZ" \
    -v pg="${#PG[@]}" 'BEGIN { printf "| %s | %d | %d | %s | %.0f | %s |\n", s, c, n, r,
      sc * 1e6 / hz / n, (pg > 0 ? sprintf("%.0f", dc * 1e6 / hz / n) : "-") }'
done
