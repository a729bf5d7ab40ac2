#ifndef RAPPORT_CRABBITMQ_SHIM_H
#define RAPPORT_CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <sys/time.h>

// amqp_login is variadic; Swift cannot call C varargs.
static inline amqp_rpc_reply_t c_amqp_login_plain(amqp_connection_state_t s, char const *vhost,
    int channel_max, int frame_max, int heartbeat, amqp_table_t const *properties,
    char const *user, char const *password) {
  return amqp_login_with_properties(s, vhost, channel_max, frame_max, heartbeat, properties,
                                    AMQP_SASL_METHOD_PLAIN, user, password);
}

// SASL EXTERNAL: the broker takes the identity from the client certificate (mutual TLS); `identity` is
// the authorization identity, which RabbitMQ ignores. It must not be empty: rabbitmq-c 0.11 then fails
// with AMQP_STATUS_NO_MEMORY (a zero-byte pool allocation).
static inline amqp_rpc_reply_t c_amqp_login_external(amqp_connection_state_t s, char const *vhost,
    int channel_max, int frame_max, int heartbeat, amqp_table_t const *properties, char const *identity) {
  return amqp_login_with_properties(s, vhost, channel_max, frame_max, heartbeat, properties,
                                    AMQP_SASL_METHOD_EXTERNAL, identity);
}
#endif
