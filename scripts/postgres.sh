#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and CI: ./scripts/postgres.sh start|stop|url|password-url|status
#
# Installs Debian's postgresql package when it is missing, initialises a cluster in ./.pg (gitignored; as root in
# /tmp/hyperselect-pg-<checksum of the checkout path>), starts it
# on 127.0.0.1 on a free port with trust authentication (loopback only, test data only) and creates the database
# 'hyperselect'.  One role, 'hyperselect_pw', must log in with its password (scram-sha-256), so that tests can
# check what a wrong password does and that a right one is never printed.  Idempotent: `start` on a running
# server only prints its URL.  `url` prints the URL of the running server (exit 1 if none), `password-url` the
# URL with the password role and its password.  PG_DIR overrides the folder.
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
PW_USER=hyperselect_pw
PW_PASSWORD=hyperselect-test-password  # a test server on 127.0.0.1: the password is no secret

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

password_url() {
  echo "postgresql://$PW_USER:$PW_PASSWORD@127.0.0.1:$(cat "$PORT_FILE")/$DB"
}

# The role that must give its password: a line for it above the trust lines of pg_hba.conf (the first matching
# line wins), then a reload.  Idempotent, and done on a running server too (clusters made before it existed).
ensure_password_role() {
  local bin="$1" port hba
  port="$(cat "$PORT_FILE")"
  hba="$DATA/pg_hba.conf"
  as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -qtAc "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PW_USER') THEN
        CREATE ROLE $PW_USER LOGIN SUPERUSER PASSWORD '$PW_PASSWORD';
      END IF; END \$\$;" >/dev/null
  if ! grep -q "^host all $PW_USER " "$hba"; then
    as_pg sh -c "{ printf '%s\n' 'host all $PW_USER 127.0.0.1/32 scram-sha-256' 'host all $PW_USER ::1/128 scram-sha-256'; \
      cat '$hba'; } >'$hba.new' && chmod 600 '$hba.new' && mv '$hba.new' '$hba'"
    as_pg "$bin/pg_ctl" -D "$DATA" reload >/dev/null
    # the reload is asynchronous: wait until a wrong password is refused
    local i
    for i in $(seq 50); do
      as_pg env PGPASSWORD=wrong "$bin/psql" -h 127.0.0.1 -p "$port" -U "$PW_USER" -d postgres -w -tAc "SELECT 1" \
        >/dev/null 2>&1 || break
      sleep 0.1
    done
  fi
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
  if running; then ensure_password_role "$bin"; url; return 0; fi
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
  ensure_password_role "$bin"
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
  password-url) running && password_url || { echo "postgres.sh: no server running in $PG_DIR" >&2; exit 1; } ;;
  status) running && echo "running: $(url)" || { echo "stopped"; exit 1; } ;;
  *) echo "usage: $0 start|stop|url|password-url|status" >&2; exit 2 ;;
esac
