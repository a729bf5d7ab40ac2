# Shared by ops/quickstart, ops/test and bench/: install what is missing and start RabbitMQ and
# PostgreSQL on loopback. Idempotent: safe to run when everything is already up.
# shellcheck shell=bash

RAPPORT_PG_ROLE=${RAPPORT_PG_ROLE:-rapport}
RAPPORT_PG_PASSWORD=${RAPPORT_PG_PASSWORD:-rapport}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
    local need=()
    for p in rabbitmq-server postgresql librabbitmq-dev libpq-dev libssl-dev zlib1g-dev pkg-config curl openssl; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
}

start_rabbitmq() {
    if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
        log "starting RabbitMQ"
        # Loopback only: no other host ever reaches this broker.
        as_root mkdir -p /etc/rabbitmq
        if [ ! -f /etc/rabbitmq/rabbitmq.conf ] || ! grep -q rapport /etc/rabbitmq/rabbitmq.conf; then
            as_root tee /etc/rabbitmq/rabbitmq.conf >/dev/null <<'CONF'
# written by rapport ops/lib.sh
listeners.tcp.default = 127.0.0.1:5672
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
loopback_users.guest = true
CONF
            echo "[rabbitmq_management]." | as_root tee /etc/rabbitmq/enabled_plugins >/dev/null
        fi
        as_root rabbitmq-server -detached
    fi
    # `-detached` returns before the node registers with epmd, and await_startup fails at once
    # (exit 69) on a node it cannot see yet, so retry until it answers.
    local up=
    for _ in $(seq 1 90); do
        if as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1; then up=1; break; fi
        sleep 1
    done
    if [ -z "$up" ]; then
        log "RabbitMQ did not start; its log says:"
        as_root sh -c 'tail -n 40 /var/log/rabbitmq/*.log' >&2 || true
        return 1
    fi
    as_root rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do
        curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null && return 0
        sleep 1
    done
    log "RabbitMQ management API did not come up on 127.0.0.1:15672"; return 1
}

pg_wait() {
    for _ in $(seq 1 30); do
        as_root su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && return 0
        sleep 1
    done
}

start_postgres() {
    local ver
    ver=$(pg_lsclusters -h 2>/dev/null | awk '{print $1; exit}')
    if [ -z "$ver" ]; then
        ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
        as_root pg_createcluster "$ver" main >/dev/null
    fi
    if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
        log "starting PostgreSQL $ver"
        as_root pg_ctlcluster "$ver" main start
    fi
    pg_wait
    # The test suite runs its suites in parallel, each with workers and its own connections; Debian's
    # default of 100 was exhausted now and then ("too many clients already"). Set once, then kept.
    if [ "$(as_root su postgres -c "psql -qtAc 'show max_connections'")" -lt 300 ]; then
        log "raising PostgreSQL max_connections to 300 (restart)"
        as_root su postgres -c "psql -qc 'alter system set max_connections = 300'" >/dev/null
        as_root pg_ctlcluster "$ver" main restart
        pg_wait
    fi
    as_root su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = '$RAPPORT_PG_ROLE'\"" | grep -q 1 ||
        as_root su postgres -c "psql -qc \"create role $RAPPORT_PG_ROLE login superuser password '$RAPPORT_PG_PASSWORD'\""
}

ensure_database() {
    local db=$1
    as_root su postgres -c "psql -qtAc \"select 1 from pg_database where datname = '$db'\"" | grep -q 1 ||
        as_root su postgres -c "createdb -O $RAPPORT_PG_ROLE $db"
}

pg_url() { echo "postgresql://$RAPPORT_PG_ROLE:$RAPPORT_PG_PASSWORD@127.0.0.1:5432/$1"; }
