import Foundation
internal import CRabbitMQ

/// Owns the C memory behind one call's arguments (strings, tables, properties) and frees it on deinit.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { for p in self.allocations { free(p) } }

    private func copy(_ buffer: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard buffer.count > 0, let p = malloc(buffer.count) else { return amqp_bytes_t(len: 0, bytes: nil) }
        p.copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
        self.allocations.append(p)
        return amqp_bytes_t(len: buffer.count, bytes: p)
    }

    func bytes(_ s: String) -> amqp_bytes_t {
        var s = s
        return s.withUTF8 { self.copy(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ b: [UInt8]) -> amqp_bytes_t { b.withUnsafeBytes { self.copy($0) } }

    func table(_ t: AMQPTable) -> amqp_table_t {
        guard !t.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = UnsafeMutablePointer<amqp_table_entry_t>.allocate(capacity: t.count)
        self.allocations.append(UnsafeMutableRawPointer(entries))
        for (i, (k, v)) in t.enumerated() {
            (entries + i).initialize(to: amqp_table_entry_t(key: self.bytes(k), value: self.field(v)))
        }
        return amqp_table_t(num_entries: Int32(t.count), entries: entries)
    }

    // Allocations from UnsafeMutablePointer.allocate are freed with free() above; on Linux both use malloc.
    func field(_ v: AMQPFieldValue) -> amqp_field_value_t {
        var f = amqp_field_value_t()
        switch v {
        case .string(let s):
            f.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            f.value.bytes = self.bytes(s)
        case .bytes(let b):
            f.kind = UInt8(AMQP_FIELD_KIND_BYTES.rawValue)
            f.value.bytes = self.bytes(b)
        case .bool(let b):
            f.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
            f.value.boolean = b ? 1 : 0
        case .int(let i):
            f.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
            f.value.i64 = i
        case .double(let d):
            f.kind = UInt8(AMQP_FIELD_KIND_F64.rawValue)
            f.value.f64 = d
        case .timestamp(let d):
            f.kind = UInt8(AMQP_FIELD_KIND_TIMESTAMP.rawValue)
            f.value.u64 = UInt64(max(0, d.timeIntervalSince1970))
        case .table(let t):
            f.kind = UInt8(AMQP_FIELD_KIND_TABLE.rawValue)
            f.value.table = self.table(t)
        case .array(let a):
            f.kind = UInt8(AMQP_FIELD_KIND_ARRAY.rawValue)
            let entries = UnsafeMutablePointer<amqp_field_value_t>.allocate(capacity: max(1, a.count))
            self.allocations.append(UnsafeMutableRawPointer(entries))
            for (i, e) in a.enumerated() { (entries + i).initialize(to: self.field(e)) }
            f.value.array = amqp_array_t(num_entries: Int32(a.count), entries: a.isEmpty ? nil : entries)
        case .void:
            f.kind = UInt8(AMQP_FIELD_KIND_VOID.rawValue)
        }
        return f
    }

    func properties(_ p: AMQPProperties) -> amqp_basic_properties_t {
        var c = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func set(_ value: String?, _ flag: Int32, _ assign: (amqp_bytes_t) -> Void) {
            if let value { assign(self.bytes(value)); flags |= UInt32(flag) }
        }
        set(p.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG) { c.content_type = $0 }
        set(p.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG) { c.content_encoding = $0 }
        set(p.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG) { c.correlation_id = $0 }
        set(p.replyTo, AMQP_BASIC_REPLY_TO_FLAG) { c.reply_to = $0 }
        set(p.expiration, AMQP_BASIC_EXPIRATION_FLAG) { c.expiration = $0 }
        set(p.messageID, AMQP_BASIC_MESSAGE_ID_FLAG) { c.message_id = $0 }
        set(p.type, AMQP_BASIC_TYPE_FLAG) { c.type = $0 }
        set(p.userID, AMQP_BASIC_USER_ID_FLAG) { c.user_id = $0 }
        set(p.appID, AMQP_BASIC_APP_ID_FLAG) { c.app_id = $0 }
        if !p.headers.isEmpty {
            c.headers = self.table(p.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        c.delivery_mode = p.persistent ? 2 : 1
        flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        if let prio = p.priority {
            c.priority = prio
            flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG)
        }
        if let ts = p.timestamp {
            c.timestamp = UInt64(max(0, ts.timeIntervalSince1970))
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        c._flags = flags
        return c
    }
}

extension AMQPConnection {
    static func string(_ b: amqp_bytes_t) -> String {
        guard b.len > 0, let p = b.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: b.len), as: UTF8.self)
    }

    static func byteArray(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let p = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: b.len))
    }

    static func table(_ t: amqp_table_t) -> AMQPTable {
        var out = AMQPTable()
        guard t.num_entries > 0, let entries = t.entries else { return out }
        for i in 0..<Int(t.num_entries) {
            let e = entries[i]
            out[Self.string(e.key)] = Self.field(e.value)
        }
        return out
    }

    static func field(_ f: amqp_field_value_t) -> AMQPFieldValue {
        switch UInt32(f.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(f.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int(Int64(f.value.i8))
        case AMQP_FIELD_KIND_U8.rawValue: return .int(Int64(f.value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: return .int(Int64(f.value.i16))
        case AMQP_FIELD_KIND_U16.rawValue: return .int(Int64(f.value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: return .int(Int64(f.value.i32))
        case AMQP_FIELD_KIND_U32.rawValue: return .int(Int64(f.value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: return .int(f.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int(Int64(truncatingIfNeeded: f.value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: return .double(Double(f.value.f32))
        case AMQP_FIELD_KIND_F64.rawValue: return .double(f.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            let d = f.value.decimal
            return .double(Double(d.value) / pow(10, Double(d.decimals)))
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(Self.string(f.value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(Self.byteArray(f.value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue:
            return .timestamp(Date(timeIntervalSince1970: TimeInterval(f.value.u64)))
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(Self.table(f.value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let a = f.value.array
            guard a.num_entries > 0, let entries = a.entries else { return .array([]) }
            return .array((0..<Int(a.num_entries)).map { Self.field(entries[$0]) })
        default: return .void
        }
    }

    static func properties(_ c: amqp_basic_properties_t) -> AMQPProperties {
        var p = AMQPProperties()
        let flags = c._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { p.contentType = Self.string(c.content_type) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { p.contentEncoding = Self.string(c.content_encoding) }
        if has(AMQP_BASIC_HEADERS_FLAG) { p.headers = Self.table(c.headers) }
        p.persistent = has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? c.delivery_mode == 2 : false
        if has(AMQP_BASIC_PRIORITY_FLAG) { p.priority = c.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { p.correlationID = Self.string(c.correlation_id) }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { p.replyTo = Self.string(c.reply_to) }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { p.expiration = Self.string(c.expiration) }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { p.messageID = Self.string(c.message_id) }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { p.timestamp = Date(timeIntervalSince1970: TimeInterval(c.timestamp)) }
        if has(AMQP_BASIC_TYPE_FLAG) { p.type = Self.string(c.type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { p.userID = Self.string(c.user_id) }
        if has(AMQP_BASIC_APP_ID_FLAG) { p.appID = Self.string(c.app_id) }
        return p
    }
}
