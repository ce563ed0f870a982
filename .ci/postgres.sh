#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on localhost:55432 for the store's integration test.
# Prints the URL on success; prints nothing (and the test skips with its reason) otherwise.
set -u
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || exit 0
dir=/tmp/synth-audit-pg
port=55432
run() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || exit 0
  rm -rf "$dir"; install -d -o postgres -g postgres "$dir"
else
  rm -rf "$dir"; mkdir -p "$dir"
fi
run "$bin/initdb -D $dir/data -U postgres --auth=trust -E UTF8 >$dir/initdb.log 2>&1" || exit 0
run "$bin/pg_ctl -D $dir/data -o '-k $dir -p $port -c listen_addresses=localhost' -l $dir/server.log -w start >/dev/null 2>&1" || exit 0
"$bin/createdb" -h localhost -p $port -U postgres synth_audit_test >/dev/null 2>&1 || exit 0
echo "postgresql+psycopg://postgres@localhost:$port/synth_audit_test"
