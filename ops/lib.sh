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

# The broker's configuration, on stdout. The plain listener on 127.0.0.1:5672 stays unless
# RAPPORT_PLAIN_LOOPBACK=0 (the test suite and the dev tools use it with guest/guest); the TLS listener on
# 127.0.0.1:5671 is there once enable_broker_tls has put the certificates in /etc/rabbitmq/tls.
# ops/rabbitmq.conf is the production version.
rabbitmq_conf() {
    echo "# written by rapport ops/lib.sh (rabbitmq_conf); edit there, not here"
    if [ "${RAPPORT_PLAIN_LOOPBACK:-1}" = 0 ]; then
        echo "listeners.tcp = none"
    else
        echo "listeners.tcp.default = 127.0.0.1:5672"
    fi
    cat <<'CONF'
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
loopback_users.guest = true
CONF
    if as_root test -s /etc/rabbitmq/tls/server.key; then
        cat <<'CONF'
# Mutual TLS: a client shows a certificate from the local CA (ops/pki) and logs in as its CN (EXTERNAL).
listeners.ssl.default = 127.0.0.1:5671
ssl_options.cacertfile = /etc/rabbitmq/tls/ca.crt
ssl_options.certfile = /etc/rabbitmq/tls/server.crt
ssl_options.keyfile = /etc/rabbitmq/tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
auth_mechanisms.1 = EXTERNAL
auth_mechanisms.2 = PLAIN
auth_mechanisms.3 = AMQPLAIN
ssl_cert_login_from = common_name
CONF
    fi
}

# install_file SRC DEST OWNER MODE: copies SRC over DEST unless they are the same; true if it copied.
install_file() {
    if as_root test -f "$2" && as_root cmp -s "$1" "$2"; then return 1; fi
    as_root install -o "$3" -g "$3" -m "$4" "$1" "$2"
}

rabbitmq_running() { as_root rabbitmqctl -q status >/dev/null 2>&1; }

start_rabbitmq() {
    if ! rabbitmq_running; then
        log "starting RabbitMQ"
        # Loopback only: no other host ever reaches this broker.
        as_root mkdir -p /etc/rabbitmq
        local conf
        conf=$(mktemp)
        rabbitmq_conf >"$conf"
        install_file "$conf" /etc/rabbitmq/rabbitmq.conf root 0644 || true
        rm -f "$conf"
        as_root test -f /etc/rabbitmq/enabled_plugins ||
            echo "[rabbitmq_management]." | as_root tee /etc/rabbitmq/enabled_plugins >/dev/null
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

# TLS on loopback, with the local CA that ops/pki makes (README: TLS).
RAPPORT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pki_dir() { echo "${RAPPORT_PKI_DIR:-$RAPPORT_ROOT/.rapport/pki}"; }
ensure_pki() { RAPPORT_PKI_DIR=$(pki_dir) bash "$RAPPORT_ROOT/ops/pki" >/dev/null; }

# Mutual TLS on 127.0.0.1:5671 (EXTERNAL login as the client certificate's CN) beside the plain listener;
# starts the broker, and restarts it only when its configuration changed.
enable_broker_tls() {
    local d conf changed='' certs=''
    d=$(pki_dir)
    ensure_pki
    # The broker reads its own copies: the checkout's keys stay 0600 and the checkout's directories closed.
    as_root install -d -o rabbitmq -g rabbitmq -m 0750 /etc/rabbitmq/tls
    install_file "$d/ca.crt" /etc/rabbitmq/tls/ca.crt rabbitmq 0644 && certs=1
    install_file "$d/localhost.crt" /etc/rabbitmq/tls/server.crt rabbitmq 0644 && certs=1
    install_file "$d/localhost.key" /etc/rabbitmq/tls/server.key rabbitmq 0600 && certs=1
    conf=$(mktemp)
    rabbitmq_conf >"$conf"
    install_file "$conf" /etc/rabbitmq/rabbitmq.conf root 0644 && changed=1
    rm -f "$conf"
    if rabbitmq_running; then
        as_root rabbitmq-plugins enable --quiet rabbitmq_auth_mechanism_ssl >/dev/null
        if [ -n "$changed" ]; then
            # rabbitmq.conf is read at boot only.
            log "RabbitMQ configuration changed: restarting the broker"
            as_root rabbitmqctl -q stop >/dev/null 2>&1 || true
            for _ in $(seq 1 60); do rabbitmq_running || break; sleep 1; done
        elif [ -n "$certs" ]; then
            # New certificate files under the same names: Erlang's PEM cache would keep the old ones.
            as_root rabbitmqctl -q eval 'ssl:clear_pem_cache().' >/dev/null
        fi
    else
        as_root rabbitmq-plugins enable --offline --quiet rabbitmq_auth_mechanism_ssl >/dev/null
    fi
    start_rabbitmq || return 1
    if ! as_root rabbitmq-diagnostics -q listeners 2>/dev/null | grep -q 5671; then
        log "RabbitMQ has no TLS listener on 5671"; return 1
    fi
}

# TLS for PostgreSQL with the local CA's localhost certificate instead of Debian's snakeoil one, and
# client-certificate login for the role rapport-worker; reloads (no restart). Run after start_postgres.
enable_postgres_tls() {
    local d ver main tls conf hba changed=''
    d=$(pki_dir)
    ensure_pki
    ver=$(pg_lsclusters -h | awk '{print $1; exit}')
    main=/etc/postgresql/$ver/main
    tls=$main/tls
    as_root install -d -o postgres -g postgres -m 0700 "$tls"
    install_file "$d/ca.crt" "$tls/ca.crt" postgres 0644 && changed=1
    install_file "$d/localhost.crt" "$tls/server.crt" postgres 0644 && changed=1
    install_file "$d/localhost.key" "$tls/server.key" postgres 0600 && changed=1
    conf=$(mktemp)
    cat >"$conf" <<CONF
# written by rapport ops/lib.sh (enable_postgres_tls)
ssl = on
ssl_cert_file = '$tls/server.crt'
ssl_key_file = '$tls/server.key'
# Client certificates (pg_hba "cert") must come from this CA.
ssl_ca_file = '$tls/ca.crt'
CONF
    install_file "$conf" "$main/conf.d/rapport-tls.conf" postgres 0644 && changed=1
    # Our rules go above Debian's, which stay: the password logins the tests use keep working.
    hba=$(mktemp)
    as_root cat "$main/pg_hba.conf" | grep -v '# rapport-tls$' | awk '
        !done && /^(local|host)/ {
            print "hostssl all rapport-worker 127.0.0.1/32 cert  # rapport-tls"
            print "hostssl all rapport-worker ::1/128 cert  # rapport-tls"
            done = 1
        }
        { print }' >"$hba"
    install_file "$hba" "$main/pg_hba.conf" postgres 0640 && changed=1
    rm -f "$conf" "$hba"
    if [ -n "$changed" ]; then
        log "PostgreSQL TLS configuration changed: reloading"
        as_root pg_ctlcluster "$ver" main reload
        pg_wait
    fi
    if [ "$(as_root su postgres -c "psql -qtAc 'show ssl'")" != on ]; then
        log "PostgreSQL did not turn ssl on; its log says:"
        as_root tail -n 20 "/var/log/postgresql/postgresql-$ver-main.log" >&2 || true
        return 1
    fi
    # The worker identity logs in by certificate only (no password) with rapport_app's rights: rows, not
    # schema; the audit chain append-only; wrapped keys only by id (migration 0019). Never the owner's.
    as_root su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = 'rapport_app'\"" | grep -q 1 ||
        as_root su postgres -c "psql -qc 'create role rapport_app nologin'"
    as_root su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = 'rapport-worker'\"" | grep -q 1 ||
        as_root su postgres -c "psql -qc 'create role \"rapport-worker\" login in role rapport_app'"
    # Installs from before 0019 made the worker a member of the owner role.
    as_root su postgres -c "psql -qc 'revoke $RAPPORT_PG_ROLE from \"rapport-worker\"' -c 'grant rapport_app to \"rapport-worker\"'" >/dev/null 2>&1 || true
}

# The key-encryption key file (README: Keys): made once, mode 0600, under the git-ignored .rapport/keys.
# Workers refuse to start without it (encryption is on by default).
kek_file() { echo "${RAPPORT_KEK_FILE:-$RAPPORT_ROOT/.rapport/keys/rapport.kek}"; }
ensure_kek() {
    local f
    f=$(kek_file)
    [ -f "$f" ] && return 0
    mkdir -p "$(dirname "$f")"
    chmod 700 "$(dirname "$f")"
    (umask 077; echo "kek-$(date -u +%Y%m%d)-$(openssl rand -hex 3) ${RAPPORT_CIPHER_SUITE:-aes-256-gcm} $(openssl rand -hex 32)" >"$f")
    log "created the key-encryption key file $f (0600; keep it off the database's backups)"
}
