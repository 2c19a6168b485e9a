#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for the test suite.
#   scripts/pg-throwaway.sh start DIR   -> prints the database URL on stdout
#   scripts/pg-throwaway.sh stop DIR
# PostgreSQL refuses to run as root, so as root the cluster runs as an unprivileged user.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?cluster directory}

find_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && echo "$found"
}

ensure_installed() {
  if [ -z "$(find_bin initdb)" ]; then
    echo "installing PostgreSQL with apt" >&2
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
  fi
}

as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}

pg_user=postgres
if [ "$(id -u)" = "0" ] && ! id "$pg_user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
fi

case "$action" in
start)
  ensure_installed
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = "0" ] && chown "$pg_user" "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$initdb" -D "$dir/data" -U tenure --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || as_owner "$initdb" -D "$dir/data" -U tenure --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
  # Durability is pointless for a throwaway cluster; fsync off keeps the suite fast.
  as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2
  as_owner "$(find_bin createdb)" -h 127.0.0.1 -p "$port" -U tenure tenure_test >&2
  echo "$port" >"$dir/port"
  echo "postgresql://tenure@127.0.0.1:$port/tenure_test"
  ;;
stop)
  pg_ctl=$(find_bin pg_ctl)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2;;
esac
