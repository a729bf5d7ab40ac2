import Foundation
import Logging
import RapportAMQP
import RapportCore
import RapportPostgres
import Synchronization
import Testing
import Workers

/// Whether the live broker and database are configured (ops/test sets these).
let liveServers: Bool = {
    let env = ProcessInfo.processInfo.environment
    return env["RAPPORT_PG_URL"] != nil && env["RAPPORT_AMQP_URL"] != nil && env["RAPPORT_MGMT_URL"] != nil
}()

/// A fresh RabbitMQ vhost and PostgreSQL database for one test, with the topology applied and the schema
/// migrated, so tests run in parallel without seeing each other's messages or rows.
final class TestEnvironment: @unchecked Sendable {
    let name: String
    let settings: RapportSettings
    let topology: Topology
    private let adminURL: String
    private let mgmt: (base: String, user: String, password: String)

    static let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    init(maxBodyBytes: Int = 65_536, batchSize: Int = 100) throws {
        let env = ProcessInfo.processInfo.environment
        self.name = "rt_" + UUID().uuidString.prefix(8).lowercased()
        let mgmtURL = URLComponents(string: env["RAPPORT_MGMT_URL"] ?? "http://guest:guest@127.0.0.1:15672")!
        self.mgmt = ("\(mgmtURL.scheme ?? "http")://\(mgmtURL.host ?? "127.0.0.1"):\(mgmtURL.port ?? 15672)",
                     mgmtURL.user ?? "guest", mgmtURL.password ?? "guest")
        let pgURL = env["RAPPORT_PG_URL"]!
        self.adminURL = env["RAPPORT_PG_ADMIN_URL"] ?? pgURL
        var amqp = URLComponents(string: env["RAPPORT_AMQP_URL"]!)!
        amqp.percentEncodedPath = "/" + self.name

        var s = RapportSettings()
        s.amqpURL = amqp.string!
        s.postgresURL = Self.replacingDatabase(in: pgURL, with: self.name)
        s.topologyPath = Self.repoRoot.appendingPathComponent("topology/rapport.json").path
        s.maxBodyBytes = maxBodyBytes
        s.batchSize = batchSize
        s.prefetch = batchSize * 2
        s.maxBackoffMilliseconds = 500
        self.settings = s
        self.topology = try TopologyApplier.load(path: s.topologyPath)

        try self.management("PUT", "/api/vhosts/\(self.name)", body: "{}")
        try self.management("PUT", "/api/permissions/\(self.name)/\(self.mgmt.user)",
                            body: #"{"configure":".*","write":".*","read":".*"}"#)
        let admin = try PGConnection(self.adminURL)
        defer { admin.close() }
        try admin.execute("create database \(self.name)")
        let db = try self.db()
        defer { db.close() }
        try Schema.migrate(db)
        let conn = try self.amqp()
        defer { conn.close() }
        try TopologyApplier.apply(self.topology, on: conn)
    }

    /// Drops the vhost and the database.
    func tearDown() {
        _ = try? self.management("DELETE", "/api/vhosts/\(self.name)")
        if let admin = try? PGConnection(self.adminURL) {
            _ = try? admin.execute("drop database if exists \(self.name) with (force)")
            admin.close()
        }
    }

    static func replacingDatabase(in url: String, with db: String) -> String {
        if var c = URLComponents(string: url), c.scheme?.hasPrefix("postgres") == true {
            c.path = "/" + db
            return c.string!
        }
        return url + " dbname=" + db
    }

    func db() throws -> PGConnection { try PGConnection(self.settings.postgresURL) }

    func amqp(name: String = "rapport-test") throws -> AMQPConnection {
        try AMQPConnection(configuration: self.settings.amqpConfiguration(name: name))
    }

    /// Calls the RabbitMQ management API; returns the response body.
    @discardableResult
    func management(_ method: String, _ path: String, body: String? = nil) throws -> String {
        var args = ["-sS", "-f", "-u", "\(self.mgmt.user):\(self.mgmt.password)", "-X", method,
                    "-H", "content-type: application/json", self.mgmt.base + path]
        if let body { args += ["-d", body] }
        let (status, out) = try run("/usr/bin/curl", args)
        guard status == 0 else { throw TestFailure("management API \(method) \(path) failed: \(out)") }
        return out
    }

    /// Publishes messages to `rapport.inbound` with confirms.
    func publish(_ messages: [InboundMessage], exchange: String = "rapport.inbound") throws {
        let conn = try self.amqp(name: "rapport-test-publisher")
        defer { conn.close() }
        try conn.enableConfirms()
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            for m in messages[chunk..<min(chunk + 500, messages.count)] {
                try conn.publish(exchange: exchange, routingKey: m.routingKey, body: m.body, properties: m.properties)
            }
            let r = try conn.waitForConfirms()
            guard r.allConfirmed else { throw TestFailure("publish not confirmed") }
        }
    }

    /// One number from SQL (`select … as n`).
    func count(_ sql: String, _ params: [(any PGEncodable)?] = []) throws -> Int {
        let db = try self.db()
        defer { db.close() }
        return try db.query(sql, params).first?.decode("n") ?? 0
    }

    /// Polls until `condition` holds or the timeout passes.
    func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        if try condition() { return }
        throw TestFailure("timed out waiting for: \(what)")
    }

    // MARK: Workers in this process

    func ingestConsumer(queue: String = "rapport.inbound.webform", channel: String = "webform",
                        settings: RapportSettings? = nil) -> IngestConsumer {
        let s = settings ?? self.settings
        return IngestConsumer(
            settings: s, topology: self.topology,
            options: .init(queue: queue, decoder: WebFormDecoder(channel: channel, maxBodyBytes: s.maxBodyBytes),
                           prefetch: s.prefetch, batchSize: s.batchSize, batchWait: .milliseconds(20),
                           maxBackoff: .milliseconds(s.maxBackoffMilliseconds)),
            logger: quietLogger)
    }

    /// Starts the ingest consumer, the dead-letter archiver and the outbox relay on threads (and the
    /// command consumers, if asked).
    func startWorkers(ingest: IngestConsumer? = nil, commands: Bool = false) -> RunningWorkers {
        let ingest = ingest ?? self.ingestConsumer()
        let archiver = DeadLetterArchiver(settings: self.settings, topology: self.topology, logger: quietLogger)
        let relay = OutboxRelay(settings: self.settings, logger: quietLogger)
        var loops: [@Sendable (StopSignal) -> Void] = [
            { ingest.run(index: 0, stop: $0) },
            { archiver.run(index: 0, stop: $0) },
            { relay.run(index: 0, stop: $0) },
        ]
        if commands {
            let identity = CommandConsumer(settings: self.settings, topology: self.topology, logger: quietLogger)
            let sales = CommandConsumer(settings: self.settings, topology: self.topology, logger: quietLogger,
                                        queue: "rapport.commands.sales", handler: SalesCommandHandler())
            loops.append { identity.run(index: 0, stop: $0) }
            loops.append { sales.run(index: 0, stop: $0) }
        }
        return RunningWorkers(loops: loops, counters: ingest.counters)
    }
}

/// Workers log only errors in tests; the assertions say what went wrong.
let quietLogger: Logger = {
    var l = Logger(label: "test") { StreamLogHandler.standardError(label: $0) }
    l.logLevel = .error
    return l
}()

/// Worker loops running on threads until ``stop()``.
final class RunningWorkers: Sendable {
    private let stopSignal = StopSignal()
    private let done: DispatchSemaphore
    private let count: Int
    let counters: IngestCounters

    init(loops: [@Sendable (StopSignal) -> Void], counters: IngestCounters) {
        self.count = loops.count
        self.counters = counters
        self.done = DispatchSemaphore(value: 0)
        for loop in loops {
            let stop = self.stopSignal, done = self.done
            Thread { loop(stop); done.signal() }.start()
        }
    }

    func stop() {
        self.stopSignal.set()
        for _ in 0..<self.count { self.done.wait() }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { self.description = d }
}

/// Runs a program to completion; returns its exit status and combined output.
@discardableResult
func run(_ path: String, _ args: [String], environment: [String: String]? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
