#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and CI: ./scripts/postgres.sh start|stop|url|status
#
# Installs Debian's postgresql package when it is missing, initialises a cluster in ./.pg (gitignored; as root in
# /tmp/hyperselect-pg-<checksum of the checkout path>), starts it
# on 127.0.0.1 on a free port with trust authentication (loopback only, test data only) and creates the database
# 'hyperselect'.  Idempotent: `start` on a running server only prints its URL.  `url` prints the URL of the running
# server (exit 1 if none).  PG_DIR overrides the folder.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$(id -u)" -eq 0 ]; then
  # As root the server runs as the 'postgres' user, who may not be able to enter the checkout (a clone in a
  # 0700 temporary folder, say): keep the cluster under /tmp instead, one per checkout.
  PG_DIR="${PG_DIR:-/tmp/hyperselect-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)}"
else
  PG_DIR="${PG_DIR:-$ROOT/.pg}"
fi
DATA="$PG_DIR/data"
PORT_FILE="$PG_DIR/port"
LOG="$PG_DIR/server.log"
DB=hyperselect
DB_USER=hyperselect

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

install_pg() {
  if find_bin >/dev/null; then return 0; fi
  echo "postgres.sh: installing Debian's postgresql package" >&2
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  find_bin >/dev/null || { echo "postgres.sh: initdb not found after installing postgresql" >&2; exit 1; }
}

# initdb and postgres refuse to run as root: run them as the 'postgres' user the Debian package creates.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

free_port() {
  local py
  py="$(command -v python3 || command -v python)"
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

url() {
  echo "postgresql://$DB_USER@127.0.0.1:$(cat "$PORT_FILE")/$DB"
}

running() {
  local bin
  bin="$(find_bin)" || return 1
  [ -f "$PORT_FILE" ] && [ -d "$DATA" ] && as_pg "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
  install_pg
  local bin port
  bin="$(find_bin)"
  if running; then url; return 0; fi
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    as_pg "$bin/initdb" -D "$DATA" -U "$DB_USER" --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  fi
  port="$(free_port)"
  echo "$port" >"$PORT_FILE"
  # fsync off: a test server; 200 connections so that several workers with connection pools fit
  as_pg "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null \
    || { tail -20 "$LOG" >&2; exit 1; }
  if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB"
  fi
  url
}

stop() {
  local bin
  bin="$(find_bin)" || return 0
  if [ -d "$DATA" ] && as_pg "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && url || { echo "postgres.sh: no server running in $PG_DIR" >&2; exit 1; } ;;
  status) running && echo "running: $(url)" || { echo "stopped"; exit 1; } ;;
  *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac
