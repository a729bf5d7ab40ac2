import ArgumentParser
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding

#if canImport(Glibc)
import Glibc
#endif

/// Splits the per-message cost of ingest into its serial stages, one thread, no worker process:
/// broker consume through ``AMQPConnection``, ``WebFormDecoder`` decoding, and ``LeadStore`` batches
/// (client CPU in the Swift process vs. server CPU in the PostgreSQL backend vs. waiting).
///
/// One consumer thread of `rapport run` does these stages one after the other, so their sum bounds its
/// throughput. Writes leads into the bench database under its own run id and person range.
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the ingest stages separately (consume, decode, LeadStore) and a few hot helpers.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "How many messages.") var count = 20_000
    @Option(help: "Messages per LeadStore batch.") var batchSize = 500
    @Option(name: .customLong("run"), help: "Run id: message ids are <run>-<k>.") var runID = "prof"
    @Option(help: "Number of the first person.") var firstPerson = 200_000_000
    @Option(help: "Share of messages that repeat an earlier person (0…1).") var duplicates = 0.1
    @Option(help: "Body size in bytes.") var bodyBytes = 600
    @Option(help: "Scratch queue in the bench vhost (deleted afterwards).") var queue = "rapport-bench.profile"

    func run() throws {
        let messages = BenchTraffic.make(count: self.count, run: self.runID, firstPerson: self.firstPerson,
                                         duplicateFraction: self.duplicates, bodyBytes: self.bodyBytes)
        let n = Double(self.count)

        // 1. Broker: fill a quorum queue, then drain it the way QueueConsumer does (nextDelivery, multiple-ack).
        var configuration = try AMQPConnection.Configuration(url: self.targets.amqpURL)
        configuration.connectionName = "rapport-bench-profile"
        let conn = try AMQPConnection(configuration: configuration)
        defer { conn.close() }
        _ = try? conn.deleteQueue(self.queue)
        try conn.declareQueue(self.queue, arguments: ["x-queue-type": .string("quorum")])
        try conn.enableConfirms()
        let now = epochNow()
        for (k, var m) in messages.enumerated() {
            BenchTraffic.stamp(now, into: &m.body, at: m.stampOffset)
            try conn.publish(exchange: "", routingKey: self.queue, body: m.body,
                             properties: AMQPProperties(contentType: "application/json", messageID: m.messageID,
                                                        appID: m.appID, timestamp: Date()))
            if (k + 1) % 500 == 0 { _ = try conn.waitForConfirms() }
        }
        _ = try conn.waitForConfirms()
        let consumer = try AMQPConnection(configuration: configuration)
        defer { consumer.close() }
        try consumer.setPrefetch(1000)
        try consumer.consume(queue: self.queue)
        var deliveries: [AMQPDelivery] = []
        deliveries.reserveCapacity(self.count)
        let consume = Stopwatch()
        while deliveries.count < self.count {
            guard let d = try consumer.nextDelivery(timeout: .seconds(5)) else {
                throw BenchError("queue \(self.queue) ran dry after \(deliveries.count) deliveries")
            }
            deliveries.append(d)
            if deliveries.count % self.batchSize == 0 || deliveries.count == self.count {
                try consumer.ack(d.deliveryTag, multiple: true)
            }
        }
        let consumed = consume.lap()
        _ = try? conn.deleteQueue(self.queue)

        // 2. Decode, exactly as IngestHandler builds the envelope.
        let decoder = WebFormDecoder(channel: "webform")
        var submissions: [LeadSubmission] = []
        submissions.reserveCapacity(self.count)
        let decode = Stopwatch()
        for d in deliveries {
            let envelope = InboundEnvelope(
                exchange: d.exchange, routingKey: "inbound.webform.\(d.properties.appID ?? "x")",
                messageID: d.properties.messageID, appID: d.properties.appID,
                contentType: d.properties.contentType, timestamp: d.properties.timestamp, body: d.body)
            if case .success(let s) = decoder.decode(envelope) { submissions.append(s) }
        }
        let decoded = decode.lap()
        guard submissions.count == self.count else {
            throw BenchError("only \(submissions.count) of \(self.count) messages decoded")
        }

        // 3. LeadStore, batch by batch, with the backend's CPU read from /proc.
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let backend: Int = try db.query("select pg_backend_pid() as pid").first?.decode("pid") ?? 0
        let store = LeadStore(connection: db)
        let server0 = Self.processCPU(pid: backend)
        let ingest = Stopwatch()
        var batches = 0
        for start in stride(from: 0, to: submissions.count, by: self.batchSize) {
            try store.ingest(Array(submissions[start..<min(start + self.batchSize, submissions.count)]))
            batches += 1
        }
        let ingested = ingest.lap()
        let server = Self.processCPU(pid: backend) - server0

        func us(_ s: Double) -> String { fixed(s * 1e6 / n, 1) }
        emit("profile_messages", self.count)
        emit("consume_wall_us_per_msg", us(consumed.wall))
        emit("consume_cpu_us_per_msg", us(consumed.cpu))
        emit("decode_cpu_us_per_msg", us(decoded.cpu))
        emit("leadstore_batches", batches)
        emit("leadstore_wall_us_per_msg", us(ingested.wall))
        emit("leadstore_client_cpu_us_per_msg", us(ingested.cpu))
        emit("leadstore_server_cpu_us_per_msg", us(server))
        emit("leadstore_other_us_per_msg", us(max(0, ingested.wall - ingested.cpu - server)))
        let serial = consumed.wall + decoded.cpu + ingested.wall
        emit("serial_us_per_msg", us(serial))
        emit("one_consumer_bound_msg_per_s", fixed(n / serial, 0))

        // 4. Hot helpers LeadStore calls per message (µs per call, this thread's CPU).
        let date = Date()
        let iso = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        emit("iso8601_format_us", Self.perCall(20_000) { _ = iso.format(date) })
        emit("uuid_string_us", Self.perCall(20_000) { _ = UUID().uuidString.lowercased() })
        let body = deliveries[0].body
        emit("json_parse_body_us", Self.perCall(20_000) { _ = try? JSONValue.parse(body) })
        emit("normalize_phone_email_name_us", Self.perCall(20_000) {
            _ = Normalize.phone("+86 139-1234-5678")
            _ = Normalize.email("USER1.RUN@EXAMPLE.CN")
            _ = Normalize.name(" 张伟 ")
        })
        let s = submissions[0]
        let row: JSONValue = .object([
            "lead_id": .string("00000000-0000-0000-0000-000000000000"), "source": .string(s.source),
            "message_id": .string(s.messageID), "channel": .string(s.channel), "name": s.name.map { .string($0) } ?? .null,
            "phone": s.phone.map { .string($0) } ?? .null, "email": s.email.map { .string($0) } ?? .null,
            "company": s.company.map { .string($0) } ?? .null, "address": s.address.map { .string($0) } ?? .null,
            "message": s.message.map { .string($0) } ?? .null, "utm": .object(s.utm), "fields": .object(s.fields),
            "submitted_at": .string(iso.format(date)),
        ])
        emit("json_encode_touch_row_us", Self.perCall(20_000) { _ = row.jsonString })
    }

    /// CPU seconds (user + system) of another process, from /proc (10 ms resolution).
    static func processCPU(pid: Int) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, utime 14 and stime 15, i.e. indexes 11 and 12 here.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Mean microseconds of this thread's CPU per call of `body`.
    static func perCall(_ calls: Int, _ body: () -> Void) -> String {
        let w = Stopwatch()
        for _ in 0..<calls { body() }
        return fixed(w.lap().cpu * 1e6 / Double(calls), 2)
    }
}

/// Wall time and this thread's CPU time since creation.
struct Stopwatch {
    let wall = ContinuousClock.now
    let cpu = Stopwatch.threadCPU()

    func lap() -> (wall: Double, cpu: Double) {
        (seconds(ContinuousClock.now - self.wall), Stopwatch.threadCPU() - self.cpu)
    }

    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
