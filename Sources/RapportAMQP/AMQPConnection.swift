import Foundation
import Glibc
internal import CRabbitMQ

/// One AMQP 0-9-1 connection over rabbitmq-c.
///
/// Every call blocks the calling thread; use it from one thread at a time (a worker's own thread).
/// Heartbeats are sent and checked only while a call is inside the library, so consumers must poll
/// ``nextDelivery(timeout:)`` with a timeout shorter than the heartbeat, and idle publishers should call
/// ``pump()`` now and then.
///
/// - Important: `@unchecked Sendable` because the handle may move between threads, but never be used
///   by two at once: rabbitmq-c connection state is not thread-safe. Owners guarantee that.
public final class AMQPConnection: @unchecked Sendable {
    private var state: amqp_connection_state_t?
    public let configuration: Configuration
    private var openChannels: Set<UInt16> = []
    private var confirmChannels: Set<UInt16> = []
    private var nextSeq: [UInt16: UInt64] = [:]
    private var unconfirmed: [UInt16: Set<UInt64>] = [:]
    private var pendingResult = AMQPConfirmResult()
    /// True while the broker has told us publishing is blocked (memory or disk alarm).
    public private(set) var isBlocked = false

    /// Opens a socket (TCP or TLS), logs in and opens channel 1.
    ///
    /// - Throws: ``AMQPError`` with code `.connect`, `.tls` or `.login`.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        guard let state = amqp_new_connection() else { throw AMQPError(.connect, replyText: "out of memory") }
        self.state = state
        do {
            try self.openSocket(state)
            var rpcTimeout = Self.makeTimeval(.seconds(configuration.timeoutSeconds))
            amqp_set_rpc_timeout(state, &rpcTimeout)
            let arena = CArena()
            var props = arena.table(["connection_name": .string(configuration.connectionName)])
            let heartbeat = Int32(configuration.heartbeatSeconds)
            let reply = switch configuration.authMechanism {
            case .plain:
                c_amqp_login_plain(state, configuration.vhost, 0, 131_072, heartbeat, &props,
                                   configuration.username, configuration.password)
            case .external:
                // RabbitMQ logs in the certificate's CN and ignores the response; rabbitmq-c cannot send an
                // empty one (it reports "could not allocate memory"), so the user name goes as the identity.
                c_amqp_login_external(state, configuration.vhost, 0, 131_072, heartbeat, &props,
                                      configuration.username.isEmpty ? "-" : configuration.username)
            }
            if reply.reply_type != AMQP_RESPONSE_NORMAL {
                // With TLS 1.3 the broker checks the client certificate after the client's handshake is
                // done, so its refusal (unknown CA, expired, none) arrives as a TLS error during login.
                let tlsFailure = reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && Self.isTLSStatus(reply.library_error)
                var e = self.error(from: reply, context: "login")
                if tlsFailure {
                    e.code = .tls
                } else if e.code == .connectionLost || e.code == .connectionClosed {
                    e.code = .login
                }
                throw e
            }
            try self.openChannel(1)
        } catch {
            self.destroy()
            throw error
        }
    }

    private func openSocket(_ state: amqp_connection_state_t) throws {
        let socket: OpaquePointer?
        if let tls = self.configuration.tls {
            socket = amqp_ssl_socket_new(state)
            guard let socket else { throw AMQPError(.tls, replyText: "cannot create TLS socket") }
            var status = amqp_ssl_socket_set_cacert(socket, tls.caCertificatePath)
            guard status == 0 else { throw AMQPError(.tls, replyText: "CA file: " + Self.statusText(status)) }
            if let cert = tls.certificatePath, let key = tls.keyPath {
                status = amqp_ssl_socket_set_key(socket, cert, key)
                guard status == 0 else { throw AMQPError(.tls, replyText: "client key: " + Self.statusText(status)) }
            }
            status = amqp_ssl_socket_set_ssl_versions(socket, AMQP_TLSv1_2, AMQP_TLSvLATEST)
            guard status == 0 else { throw AMQPError(.tls, replyText: "TLS versions: " + Self.statusText(status)) }
            amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
            amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else { throw AMQPError(.connect, replyText: "cannot create socket") }
        var tv = Self.makeTimeval(.seconds(self.configuration.timeoutSeconds))
        let status = amqp_socket_open_noblock(socket, self.configuration.host, Int32(self.configuration.port), &tv)
        guard status == 0 else {
            throw AMQPError(Self.isTLSStatus(status) ? .tls : .connect, replyText: Self.statusText(status))
        }
    }

    /// rabbitmq-c's TLS statuses: handshake, peer or host name verification failed.
    private static func isTLSStatus(_ status: Int32) -> Bool {
        status == AMQP_STATUS_SSL_ERROR.rawValue || status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue
            || status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue
            || status == AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue
    }

    deinit { self.destroy() }

    /// Whether the connection is still usable.
    public var isOpen: Bool { self.state != nil }

    /// Closes the connection politely; safe to call twice.
    public func close() {
        guard let state = self.state else { return }
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        self.destroy()
    }

    private func destroy() {
        if let state = self.state {
            amqp_destroy_connection(state)
            self.state = nil
        }
        self.openChannels.removeAll()
    }

    private func live() throws -> amqp_connection_state_t {
        guard let state = self.state else { throw AMQPError(.connectionLost, replyText: "connection is closed") }
        return state
    }

    // MARK: Channels and topology

    /// Opens a channel. Channel 1 is opened by ``init(configuration:)``.
    public func openChannel(_ channel: UInt16) throws {
        let state = try self.live()
        if amqp_channel_open(state, channel) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "channel.open")
        }
        self.openChannels.insert(channel)
    }

    /// Declares an exchange (idempotent when the arguments match).
    public func declareExchange(_ name: String, type: String, durable: Bool = true, autoDelete: Bool = false,
                                isInternal: Bool = false, arguments: AMQPTable = [:], channel: UInt16 = 1) throws {
        let state = try self.live()
        let arena = CArena()
        let ok = amqp_exchange_declare(state, channel, arena.bytes(name), arena.bytes(type), 0,
                                       durable ? 1 : 0, autoDelete ? 1 : 0, isInternal ? 1 : 0, arena.table(arguments))
        if ok == nil { throw self.error(from: amqp_get_rpc_reply(state), context: "exchange.declare \(name)") }
    }

    /// Declares a queue and returns its message and consumer counts.
    @discardableResult
    public func declareQueue(_ name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                             passive: Bool = false, arguments: AMQPTable = [:],
                             channel: UInt16 = 1) throws -> (name: String, messages: Int, consumers: Int) {
        let state = try self.live()
        let arena = CArena()
        guard let ok = amqp_queue_declare(state, channel, arena.bytes(name), passive ? 1 : 0, durable ? 1 : 0,
                                          exclusive ? 1 : 0, autoDelete ? 1 : 0, arena.table(arguments)) else {
            throw self.error(from: amqp_get_rpc_reply(state), context: "queue.declare \(name)")
        }
        return (Self.string(ok.pointee.queue), Int(ok.pointee.message_count), Int(ok.pointee.consumer_count))
    }

    /// Binds a queue to an exchange.
    public func bindQueue(_ queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:],
                          channel: UInt16 = 1) throws {
        let state = try self.live()
        let arena = CArena()
        if amqp_queue_bind(state, channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(routingKey),
                           arena.table(arguments)) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "queue.bind \(queue)")
        }
    }

    /// Deletes a queue; returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, channel: UInt16 = 1) throws -> Int {
        let state = try self.live()
        let arena = CArena()
        guard let ok = amqp_queue_delete(state, channel, arena.bytes(name), 0, 0) else {
            throw self.error(from: amqp_get_rpc_reply(state), context: "queue.delete \(name)")
        }
        return Int(ok.pointee.message_count)
    }

    /// Deletes an exchange.
    public func deleteExchange(_ name: String, channel: UInt16 = 1) throws {
        let state = try self.live()
        let arena = CArena()
        if amqp_exchange_delete(state, channel, arena.bytes(name), 0) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "exchange.delete \(name)")
        }
    }

    /// Removes every ready message from a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ name: String, channel: UInt16 = 1) throws -> Int {
        let state = try self.live()
        let arena = CArena()
        guard let ok = amqp_queue_purge(state, channel, arena.bytes(name)) else {
            throw self.error(from: amqp_get_rpc_reply(state), context: "queue.purge \(name)")
        }
        return Int(ok.pointee.message_count)
    }

    // MARK: Consuming

    /// Limits unacknowledged deliveries on the channel.
    public func setPrefetch(_ count: Int, channel: UInt16 = 1) throws {
        let state = try self.live()
        if amqp_basic_qos(state, channel, 0, UInt16(clamping: count), 0) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "basic.qos")
        }
    }

    /// Starts a consumer; returns its tag.
    @discardableResult
    public func consume(queue: String, consumerTag: String = "", arguments: AMQPTable = [:],
                        channel: UInt16 = 1) throws -> String {
        let state = try self.live()
        let arena = CArena()
        guard let ok = amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, 0, 0,
                                          arena.table(arguments)) else {
            throw self.error(from: amqp_get_rpc_reply(state), context: "basic.consume \(queue)")
        }
        return Self.string(ok.pointee.consumer_tag)
    }

    /// Stops a consumer. Deliveries already in flight may still arrive.
    public func cancel(consumerTag: String, channel: UInt16 = 1) throws {
        let state = try self.live()
        let arena = CArena()
        if amqp_basic_cancel(state, channel, arena.bytes(consumerTag)) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "basic.cancel")
        }
    }

    /// Waits up to `timeout` for the next delivery; `nil` when none came in time.
    ///
    /// Frames that are not deliveries (confirms, channel or connection close, consumer cancel, blocked)
    /// are handled here; a close or socket error throws and leaves the connection closed.
    public func nextDelivery(timeout: Duration) throws -> AMQPDelivery? {
        let state = try self.live()
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var tv = Self.makeTimeval(timeout)
        let reply = amqp_consume_message(state, &envelope, &tv, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            return AMQPDelivery(
                deliveryTag: envelope.delivery_tag,
                redelivered: envelope.redelivered != 0,
                exchange: Self.string(envelope.exchange),
                routingKey: Self.string(envelope.routing_key),
                consumerTag: Self.string(envelope.consumer_tag),
                properties: Self.properties(envelope.message.properties),
                body: Self.byteArray(envelope.message.body))
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // A frame other than basic.deliver is waiting: read and handle it.
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame(state, &frame)
            guard status == 0 else { throw self.lost(status) }
            try self.handle(frame, state: state)
            return nil
        default:
            throw self.error(from: reply, context: "consume")
        }
    }

    /// Acknowledges one delivery, or all up to `deliveryTag` when `multiple`.
    public func ack(_ deliveryTag: UInt64, multiple: Bool = false, channel: UInt16 = 1) throws {
        let state = try self.live()
        let status = amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0)
        guard status == 0 else { throw self.lost(status) }
    }

    /// Rejects one delivery; without requeue the queue dead-letters it.
    public func reject(_ deliveryTag: UInt64, requeue: Bool, channel: UInt16 = 1) throws {
        let state = try self.live()
        let status = amqp_basic_reject(state, channel, deliveryTag, requeue ? 1 : 0)
        guard status == 0 else { throw self.lost(status) }
    }

    /// Negatively acknowledges deliveries.
    public func nack(_ deliveryTag: UInt64, multiple: Bool, requeue: Bool, channel: UInt16 = 1) throws {
        let state = try self.live()
        let status = amqp_basic_nack(state, channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0)
        guard status == 0 else { throw self.lost(status) }
    }

    // MARK: Publishing

    /// Puts the channel in confirm mode; later publishes on it get sequence numbers.
    public func enableConfirms(channel: UInt16 = 1) throws {
        let state = try self.live()
        guard !self.confirmChannels.contains(channel) else { return }
        if amqp_confirm_select(state, channel) == nil {
            throw self.error(from: amqp_get_rpc_reply(state), context: "confirm.select")
        }
        self.confirmChannels.insert(channel)
        self.nextSeq[channel] = 1
        self.unconfirmed[channel] = []
    }

    /// Publishes one message. Returns its confirm sequence number when the channel is in confirm mode.
    @discardableResult
    public func publish(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties = AMQPProperties(),
                        mandatory: Bool = false, channel: UInt16 = 1) throws -> UInt64? {
        let state = try self.live()
        let arena = CArena()
        var props = arena.properties(properties)
        let status = body.withUnsafeBytes { raw -> Int32 in
            let b = amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))
            return amqp_basic_publish(state, channel, arena.bytes(exchange), arena.bytes(routingKey),
                                      mandatory ? 1 : 0, 0, &props, b)
        }
        guard status == 0 else { throw self.lost(status) }
        guard self.confirmChannels.contains(channel), let seq = self.nextSeq[channel] else { return nil }
        self.nextSeq[channel] = seq + 1
        self.unconfirmed[channel, default: []].insert(seq)
        return seq
    }

    /// Number of published messages not yet confirmed on a channel.
    public func unconfirmedCount(channel: UInt16 = 1) -> Int { self.unconfirmed[channel]?.count ?? 0 }

    /// Waits until the broker has confirmed (acked or nacked) everything published on the channel.
    ///
    /// - Returns: which messages were nacked or returned as unroutable; empty when all went well.
    /// - Throws: `.timeout` when confirms did not arrive in time, or a connection error.
    public func waitForConfirms(timeout: Duration = .seconds(30), channel: UInt16 = 1) throws -> AMQPConfirmResult {
        let state = try self.live()
        let deadline = ContinuousClock.now + timeout
        while !(self.unconfirmed[channel]?.isEmpty ?? true) {
            let left = deadline - ContinuousClock.now
            if left <= .zero { throw AMQPError(.timeout, replyText: "publisher confirms") }
            var frame = amqp_frame_t()
            var tv = Self.makeTimeval(min(left, .milliseconds(500)))
            let status = amqp_simple_wait_frame_noblock(state, &frame, &tv)
            if status == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard status == 0 else { throw self.lost(status) }
            try self.handle(frame, state: state)
        }
        amqp_maybe_release_buffers(state)
        defer { self.pendingResult = AMQPConfirmResult() }
        return self.pendingResult
    }

    /// Lets the library send and check heartbeats on an idle connection, handling any frames waiting.
    public func pump() throws {
        let state = try self.live()
        while true {
            var frame = amqp_frame_t()
            var tv = Self.makeTimeval(.zero)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &tv)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return }
            guard status == 0 else { throw self.lost(status) }
            try self.handle(frame, state: state)
        }
    }

    // MARK: Frame handling

    private static let basicAck: UInt32 = 0x003C_0050
    private static let basicNack: UInt32 = 0x003C_0078
    private static let basicReturn: UInt32 = 0x003C_0032
    private static let basicCancel: UInt32 = 0x003C_001E
    private static let channelClose: UInt32 = 0x0014_0028
    private static let channelCloseOk: UInt32 = 0x0014_0029
    private static let connectionClose: UInt32 = 0x000A_0032
    private static let connectionCloseOk: UInt32 = 0x000A_0033
    private static let connectionBlocked: UInt32 = 0x000A_003C
    private static let connectionUnblocked: UInt32 = 0x000A_003D

    private func handle(_ frame: amqp_frame_t, state: amqp_connection_state_t) throws {
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }  // stray content frames
        let method = frame.payload.method
        let channel = frame.channel
        switch method.id {
        case Self.basicAck:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            self.settle(channel: channel, tag: m.delivery_tag, multiple: m.multiple != 0, nacked: false)
        case Self.basicNack:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            self.settle(channel: channel, tag: m.delivery_tag, multiple: m.multiple != 0, nacked: true)
        case Self.basicReturn:
            let m = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            var returned = AMQPReturnedMessage(
                replyCode: Int(m.reply_code), replyText: Self.string(m.reply_text),
                exchange: Self.string(m.exchange), routingKey: Self.string(m.routing_key),
                properties: AMQPProperties())
            var message = amqp_message_t()
            let reply = amqp_read_message(state, channel, &message, 0)
            guard reply.reply_type == AMQP_RESPONSE_NORMAL else { throw self.error(from: reply, context: "basic.return") }
            returned.properties = Self.properties(message.properties)
            amqp_destroy_message(&message)
            self.pendingResult.returned.append(returned)
        case Self.channelClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, Self.channelCloseOk, &ok)
            self.openChannels.remove(channel)
            throw AMQPError(.channelClosed, replyCode: Int(m.reply_code), replyText: Self.string(m.reply_text))
        case Self.connectionClose:
            let m = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, Self.connectionCloseOk, &ok)
            self.destroy()
            throw AMQPError(.connectionClosed, replyCode: Int(m.reply_code), replyText: Self.string(m.reply_text))
        case Self.basicCancel:
            throw AMQPError(.consumerCancelled, replyText: "the broker cancelled the consumer")
        case Self.connectionBlocked:
            self.isBlocked = true
        case Self.connectionUnblocked:
            self.isBlocked = false
        default:
            break
        }
    }

    private func settle(channel: UInt16, tag: UInt64, multiple: Bool, nacked: Bool) {
        guard var set = self.unconfirmed[channel] else { return }
        let settled: [UInt64] = multiple ? set.filter { $0 <= tag } : (set.contains(tag) ? [tag] : [])
        for s in settled { set.remove(s) }
        self.unconfirmed[channel] = set
        if nacked { self.pendingResult.nacked.append(contentsOf: settled.sorted()) }
    }

    // MARK: Errors

    private func lost(_ status: Int32) -> AMQPError {
        self.destroy()
        return AMQPError(.connectionLost, replyText: Self.statusText(status))
    }

    private func error(from reply: amqp_rpc_reply_t, context: String) -> AMQPError {
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let state = self.state else { return AMQPError(.connectionLost, replyText: context) }
            if reply.reply.id == Self.channelClose {
                let m = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = Self.string(m.reply_text)
                // The channel is gone; acknowledge the close so the connection stays usable.
                var ok = amqp_channel_close_ok_t(dummy: 0)
                _ = amqp_send_method(state, 1, Self.channelCloseOk, &ok)
                self.openChannels.remove(1)
                return AMQPError(.channelClosed, replyCode: Int(m.reply_code), replyText: "\(context): \(text)")
            }
            if reply.reply.id == Self.connectionClose {
                let m = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                var ok = amqp_connection_close_ok_t(dummy: 0)
                _ = amqp_send_method(state, 0, Self.connectionCloseOk, &ok)
                let text = Self.string(m.reply_text)
                self.destroy()
                let code: AMQPError.Code = m.reply_code == 403 || m.reply_code == 530 ? .login : .connectionClosed
                return AMQPError(code, replyCode: Int(m.reply_code), replyText: "\(context): \(text)")
            }
            return AMQPError(.protocolError, replyText: "\(context): unexpected method \(reply.reply.id)")
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let status = reply.library_error
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                self.destroy()  // an RPC that timed out leaves the protocol state unknown
                return AMQPError(.timeout, replyText: context)
            }
            let text = Self.statusText(status)
            self.destroy()
            return AMQPError(.connectionLost, replyText: "\(context): \(text)")
        default:
            self.destroy()
            return AMQPError(.protocolError, replyText: "\(context): no reply")
        }
    }

    static func statusText(_ status: Int32) -> String {
        guard let s = amqp_error_string2(status) else { return "status \(status)" }
        return String(cString: s)
    }

    static func makeTimeval(_ d: Duration) -> timeval {
        let (sec, atto) = d.components
        var tv = timeval()
        tv.tv_sec = Int(max(0, sec))
        tv.tv_usec = Int(max(0, atto) / 1_000_000_000_000)
        return tv
    }
}
