import Foundation
import RapportAMQP
import RapportMonitor
import RapportPostgres
import RapportServices
import RapportTesting
import Testing

/// `rapport run` started while a server is unreachable waits it out with backoff, says which server and
/// why (never the password), reports not ready on /healthz, and starts working once the server is back.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run start-up tests"))
struct StartupIntegrationTests {
    static func healthz(_ port: Int) -> (status: Int, body: String)? { try? MiniHTTP.get("http://127.0.0.1:\(port)/healthz", timeout: 2) }

    static func backups() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-backups-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    @Test(.timeLimit(.minutes(2)))
    func aDatabaseThatIsNotThereYetIsWaitedFor() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        // A database that does not exist yet: libpq refuses the connection as it would with the server down.
        let late = env.name + "_late"
        let lateURL = TestEnvironment.replacingDatabase(in: env.settings.postgresURL, with: late)
        let port = Int.random(in: 40_000..<50_000)
        let worker = try WorkerProcess(env: env, overrides: [
            "RAPPORT_PG_URL": lateURL, "RAPPORT_METRICS_PORT": String(port), "RAPPORT_LOG_LEVEL": "info",
            "RAPPORT_BACKUP_DIR": Self.backups(),
        ], captureLog: true)
        defer { worker.terminate() }
        let admin = try PGConnection(ProcessInfo.processInfo.environment["RAPPORT_PG_ADMIN_URL"] ?? env.settings.postgresURL)
        defer {
            _ = try? admin.execute("drop database if exists \(late) with (force)")
            admin.close()
        }

        try await env.waitUntil("retries logged") { worker.logText.components(separatedBy: "server fault; retrying").count > 2 }
        #expect(worker.isRunning, "exited instead of waiting: \(worker.logText)")
        let log = worker.logText
        #expect(log.contains("server=database"), "\(log)")
        #expect(log.contains("does not exist"), "libpq's own message: \(log)")
        #expect(log.contains(":***@"), "the URL without its password: \(log)")
        #expect(!log.contains(":rapport@"), "a password in the log: \(log)")
        try await env.waitUntil("/healthz answers") { Self.healthz(port) != nil }
        let health = try #require(Self.healthz(port))
        #expect(health.status == 503 && health.body.contains("not ready: database"), "\(health)")

        // The database appears: the worker migrates it and ingests.
        try admin.execute("create database \(late)")
        try env.publish([DemoData.webForm(1, run: "late", messageID: "late-1")])
        try await env.waitUntil("ingested after the wait", timeout: .seconds(60)) {
            let db = try PGConnection(lateURL)
            defer { db.close() }
            return try db.query("select count(*)::int8 as n from inbound_ledger").first?.decode("n") == 1
        }
        #expect(worker.terminate() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aBrokerThatRefusesUsIsWaitedFor() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        // A vhost that does not exist yet: the broker refuses the login, as it would while it starts.
        let lateVhost = env.name + "-late"
        var amqp = URLComponents(string: env.settings.amqpURL)!
        amqp.percentEncodedPath = "/" + lateVhost
        let port = Int.random(in: 50_000..<60_000)
        let worker = try WorkerProcess(env: env, overrides: [
            "RAPPORT_AMQP_URL": amqp.string!, "RAPPORT_METRICS_PORT": String(port), "RAPPORT_LOG_LEVEL": "info",
            "RAPPORT_BACKUP_DIR": Self.backups(),
        ], captureLog: true)
        defer {
            worker.terminate()
            _ = try? env.management("DELETE", "/api/vhosts/\(lateVhost)")
        }

        try await env.waitUntil("retries logged") { worker.logText.components(separatedBy: "server fault; retrying").count > 2 }
        #expect(worker.isRunning, "exited instead of waiting: \(worker.logText)")
        let log = worker.logText
        #expect(log.contains("server=broker"), "\(log)")
        #expect(log.contains("amqp://guest@127.0.0.1:5672/\(lateVhost)"), "the broker named without its password: \(log)")
        try await env.waitUntil("/healthz answers") { Self.healthz(port) != nil }
        let health = try #require(Self.healthz(port))
        #expect(health.status == 503 && health.body.contains("not ready: broker"), "\(health)")

        // The vhost appears: the worker declares its topology there and ingests into the database.
        try env.management("PUT", "/api/vhosts/\(lateVhost)", body: "{}")
        try env.management("PUT", "/api/permissions/\(lateVhost)/guest", body: #"{"configure":".*","write":".*","read":".*"}"#)
        try await env.waitUntil("queue declared by the worker", timeout: .seconds(30)) {
            (try? env.management("GET", "/api/queues/\(lateVhost)/rapport.inbound.webform")) != nil
        }
        let conn = try AMQPConnection(configuration: try .init(url: amqp.string!))
        defer { conn.close() }
        try conn.enableConfirms()
        let m = DemoData.webForm(2, run: "late", messageID: "late-2")
        try conn.publish(exchange: "rapport.inbound", routingKey: m.routingKey, body: m.body, properties: m.properties)
        #expect(try conn.waitForConfirms().allConfirmed)
        try await env.waitUntil("ingested after the wait", timeout: .seconds(60)) {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 1
        }
        #expect(worker.terminate() == 0)
    }
}
