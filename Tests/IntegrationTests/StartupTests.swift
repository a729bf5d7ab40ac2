import Foundation
import RapportAMQP
import RapportMonitor
import RapportPostgres
import RapportServices
import RapportSupport
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
        // The binding, not just the queue: a message published between the two would be unroutable and lost.
        try await env.waitUntil("queue declared and bound by the worker", timeout: .seconds(30)) {
            let bindings = (try? env.management("GET", "/api/exchanges/\(lateVhost)/rapport.inbound/bindings/source")) ?? ""
            return bindings.contains("\"destination\":\"rapport.inbound.webform\"")
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

/// A new form is data: `rapport run` with a connectors folder that has one more mapping and route ingests it.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run routing tests"))
struct RoutesIntegrationTests {
    @Test(.timeLimit(.minutes(2)))
    func aNewFormNeedsAMappingAndARouteNotCode() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        // The shipped connectors plus one form builder with its own field names.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-connectors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(atPath: env.settings.connectorsPath, toPath: dir.path)
        try #"{"channel": "webform", "format": "flat-json", "fields": {"name": "visitor", "phone": "mobile", "fields.booth": "booth"}}"#
            .write(to: dir.appendingPathComponent("webform/expo.mapping.json"), atomically: true, encoding: .utf8)
        let routesURL = dir.appendingPathComponent("routes.json")
        var routes = try JSONValue.parse(Array(try Data(contentsOf: routesURL))).objectValue ?? [:]
        var queues = routes["queues"]?.objectValue ?? [:]
        var webform = queues["rapport.inbound.webform"]?.objectValue ?? [:]
        var connectors = webform["connectors"]?.objectValue ?? [:]
        connectors["expo-2026"] = .object(["mapping": "webform/expo.mapping.json"])
        webform["connectors"] = .object(connectors)
        queues["rapport.inbound.webform"] = .object(webform)
        routes["queues"] = .object(queues)
        try JSONValue.object(routes).jsonString.write(to: routesURL, atomically: true, encoding: .utf8)

        let worker = try WorkerProcess(env: env, overrides: ["RAPPORT_CONNECTORS": dir.path])
        defer { worker.terminate() }
        let body = Array(#"{"visitor": "王芳", "mobile": "138 1234 5678", "booth": "A12"}"#.utf8)
        try env.publish([
            InboundMessage(routingKey: "inbound.webform.expo-2026", body: body,
                           properties: .init(contentType: "application/json", messageID: "expo-1", appID: "expo-2026")),
            // The same body from another source is read in Rapport's own field names: no contact, dead-lettered.
            InboundMessage(routingKey: "inbound.webform.site-a", body: body,
                           properties: .init(contentType: "application/json", messageID: "site-1", appID: "site-a")),
        ])
        try await env.waitUntil("the form ingested", timeout: .seconds(60)) {
            try env.count("select count(*)::int8 as n from leads where name = '王芳' and phone = '+8613812345678' and fields->>'booth' = 'A12'") == 1
        }
        // Only ingest runs here, so the refused message waits in rapport.dead for the archiver.
        try await env.waitUntil("the other source refused") {
            let q = try JSONValue.parse(Array(try env.management("GET", "/api/queues/\(env.name)/rapport.dead").utf8)).objectValue
            return q?["messages"] == .number(1)
        }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger") == 1)
        #expect(worker.terminate() == 0)
    }
}
