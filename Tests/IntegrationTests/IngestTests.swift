import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

/// Web-form ingest end to end on a real RabbitMQ and PostgreSQL: every message accounted for,
/// idempotency, outages, crashes, dead letters and replay.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run ingest integration tests"))
struct IngestIntegrationTests {
    /// The dead-letter code DemoData.malformed(k) must produce.
    static func expectedCode(_ k: Int) -> String {
        ["invalid_json", "missing_contact", "missing_message_id", "wrong_content_type", "missing_contact",
         "unknown_routing_key"][k % 6]
    }

    @Test(.timeLimit(.minutes(2)))
    func everyMessageIsAccountedFor() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        try DemoData.seedCustomers(3, run: "t1", db: db, keyring: env.keyring)

        // Listen to events before anything is published.
        let listener = try env.amqp(name: "event-listener")
        defer { listener.close() }
        let q = try listener.declareQueue("", durable: false, exclusive: true, autoDelete: true)
        try listener.bindQueue(q.name, exchange: "rapport.events", routingKey: "#")
        try listener.consume(queue: q.name)

        let people = 40, dupes = 15, bad = 12
        try env.publish(DemoData.webForms(people: people, duplicates: dupes, malformed: bad, run: "t1"))
        let workers = try env.startWorkers()
        defer { workers.stop() }

        try await env.waitUntil("all messages accounted for") {
            try env.count("select count(*)::int8 as n from inbound_ledger") == people + dupes
                && env.count("select count(*)::int8 as n from dead_letters") == bad
        }
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where outcome = 'created'") == people)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where outcome = 'merged'") == dupes)
        #expect(try env.count("select count(*)::int8 as n from leads") == people)
        #expect(try env.count("select count(*)::int8 as n from lead_touches") == people + dupes)
        // Repeats used other phone formats and upper-case emails: they normalised to the same keys.
        #expect(try env.count("select count(*)::int8 as n from lead_identities") == 2 * people)
        #expect(try env.count("select count(*)::int8 as n from leads where touch_count > 1") == dupes)

        var expected: [String: Int] = [:]
        for k in 0..<bad { expected[Self.expectedCode(k), default: 0] += 1 }
        for (code, n) in expected {
            #expect(try env.count("select count(*)::int8 as n from dead_letters where error_code = $1", [code]) == n,
                    "dead letters with code \(code)")
        }
        // Every dead letter says why and where it came from.
        #expect(try env.count("""
            select count(*)::int8 as n from dead_letters where error is null or original_exchange is null
              or original_routing_key is null or failed_at is null or attempts is null
              or headers->>'x-rapport-error-code' is null
            """) == 0)

        // 撞单: people 0..2 are customers of reps; their first forms and their repeats warn the owner.
        let warned = try env.count("select count(*)::int8 as n from inbound_ledger where customer_id is not null")
        let repeatsOfCustomers = (0..<dupes).filter { $0 % people < 3 }.count
        #expect(warned == 3 + repeatsOfCustomers)
        #expect(try env.count("select count(*)::int8 as n from leads where customer_id is not null") == 3)

        // Events arrive after commit, from the outbox.
        var seen: [String: Int] = [:]
        var owners = Set<String>()
        try await env.waitUntil("events published") {
            while let d = try listener.nextDelivery(timeout: .milliseconds(50)) {
                seen[d.routingKey, default: 0] += 1
                if d.routingKey == "customer.duplicate_detected",
                   let o = try JSONValue.parse(d.body).objectValue?["owner"]?.stringValue { owners.insert(o) }
                try listener.ack(d.deliveryTag)
            }
            return seen["lead.created"] == people && seen["customer.duplicate_detected"] == warned
        }
        #expect(owners == ["rep-1", "rep-2", "rep-3"])
    }

    @Test(.timeLimit(.minutes(2)))
    func republishingTheSameMessagesChangesNothing() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        // Malformed ones too (all with message ids: without one a message cannot be recognised again).
        let bad = [0, 1, 3, 4, 5].map { DemoData.malformed($0, run: "t2") }
        let messages = DemoData.webForms(people: 30, duplicates: 10, malformed: 0, run: "t2") + bad
        try env.publish(messages)
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try await env.waitUntil("first pass") {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 40
                && env.count("select count(*)::int8 as n from dead_letters") == bad.count
        }
        try await env.waitUntil("events out") { try env.count("select count(*)::int8 as n from outbox where published_at is null") == 0 }
        let snapshot = try Self.counts(env)

        try env.publish(messages)  // the same message ids again, as a retrying upstream would
        try await env.waitUntil("second pass seen") {
            let c = workers.counters.snapshot
            return c["duplicate_message"] == 40 && c.filter { $0.key.hasPrefix("dead_letter.") }.values.reduce(0, +) == 2 * bad.count
        }
        try await Task.sleep(for: .milliseconds(500))  // give the archiver time to (not) add rows
        #expect(try Self.counts(env) == snapshot)
    }

    static func counts(_ env: TestEnvironment) throws -> [Int] {
        try ["leads", "lead_touches", "lead_identities", "inbound_ledger", "outbox", "dead_letters"].map {
            try env.count("select count(*)::int8 as n from \($0)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func databaseOutageLosesNothing() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        let first = (0..<600).map { DemoData.webForm($0, run: "t3", messageID: "t3-\($0)") }
        let second = (600..<1200).map { DemoData.webForm($0, run: "t3", messageID: "t3-\($0)") }
        try env.publish(first)
        try await env.waitUntil("some committed") { try env.count("select count(*)::int8 as n from inbound_ledger") > 0 }

        // The database goes away for this worker: new connections refused, open ones killed.
        let admin = try PGConnection(ProcessInfo.processInfo.environment["RAPPORT_PG_ADMIN_URL"] ?? env.settings.postgresURL)
        defer { admin.close() }
        try admin.execute("alter database \(env.name) allow_connections false")
        try admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1", [env.name])
        try env.publish(second)
        try await Task.sleep(for: .seconds(3))
        try admin.execute("alter database \(env.name) allow_connections true")

        try await env.waitUntil("everything committed after the outage", timeout: .seconds(60)) {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 1200
        }
        #expect(try env.count("select count(*)::int8 as n from leads") == 1200)
        #expect(try env.count("select count(*)::int8 as n from lead_touches") == 1200)
        #expect(try env.count("select count(*)::int8 as n from dead_letters") == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func competingConsumersNeverSplitAPerson() async throws {
        let env = try TestEnvironment(batchSize: 50)
        defer { env.tearDown() }
        // Each person arrives three times in a row (other formats, distinct message ids): the broker hands
        // the three to three different consumers, which then race for the same person.
        let people = 1000
        var messages: [InboundMessage] = []
        for i in 0..<people {
            for round in 0..<3 {
                messages.append(DemoData.webForm(i, run: "t9", messageID: "t9-\(round)-\(i)", phoneStyle: round))
            }
        }
        let consumers = try (0..<3).map { _ in try env.ingestConsumer() }
        let workers = RunningWorkers(
            loops: consumers.enumerated().map { i, c in { c.run(index: i, stop: $0) } }, counters: IngestCounters())
        defer { workers.stop() }
        try env.publish(messages)
        try await env.waitUntil("all committed", timeout: .seconds(90)) {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 3 * people
        }
        #expect(try env.count("select count(*)::int8 as n from leads") == people)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where outcome = 'created'") == people)
        #expect(try env.count("select count(*)::int8 as n from lead_touches") == 3 * people)
        // Every consumer took part, or the test proved nothing about concurrency.
        for c in consumers { #expect((c.handler.counters.snapshot["batches"] ?? 0) > 0) }
    }

    @Test(.timeLimit(.minutes(2)))
    func brokerClosingTheConnectionIsSurvived() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try env.publish((0..<300).map { DemoData.webForm($0, run: "t8", messageID: "t8-\($0)") })
        try await env.waitUntil("first part") { try env.count("select count(*)::int8 as n from inbound_ledger") == 300 }

        // An operator (or a broker restart) closes the consumer's connection. The management API lists
        // connections from periodic stats, so look until it shows.
        var closed = 0
        try await env.waitUntil("consumer connection listed and closed", timeout: .seconds(30)) {
            let list = try JSONValue.parse(Array(try env.management("GET", "/api/vhosts/\(env.name)/connections").utf8))
            guard case .array(let conns) = list else { return false }
            for c in conns {
                let o = c.objectValue ?? [:]
                guard let name = o["name"]?.stringValue,
                      o["client_properties"]?.objectValue?["connection_name"]?.stringValue?.hasPrefix("rapport-ingest-rapport.inbound") == true
                else { continue }
                let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                try env.management("DELETE", "/api/connections/\(encoded)")
                closed += 1
            }
            return closed > 0
        }
        #expect(closed == 1)
        try env.publish((300..<600).map { DemoData.webForm($0, run: "t8", messageID: "t8-\($0)") })
        try await env.waitUntil("consumer reconnected and caught up", timeout: .seconds(60)) {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 600
        }
        #expect(try env.count("select count(*)::int8 as n from leads") == 600)
        #expect(try env.count("select count(*)::int8 as n from dead_letters") == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func killDashNineMidBatchLosesAndDoublesNothing() async throws {
        let env = try TestEnvironment(batchSize: 200)
        defer { env.tearDown() }
        let total = 20_000, people = 16_000
        var messages = (0..<people).map { DemoData.webForm($0, run: "t4", messageID: "t4-\($0)") }
        messages += (0..<(total - people)).map { DemoData.webForm($0, run: "t4", messageID: "t4-r\($0)", phoneStyle: 1) }
        try env.publish(messages)

        let worker = try WorkerProcess(env: env)
        try await env.waitUntil("worker under way") { try env.count("select count(*)::int8 as n from inbound_ledger") >= 1 }
        worker.kill9()
        let atKill = try env.count("select count(*)::int8 as n from inbound_ledger")
        #expect(atKill < total, "the worker should have been killed mid-stream")

        let again = try WorkerProcess(env: env)
        defer { again.terminate() }
        try await env.waitUntil("all committed after restart", timeout: .seconds(90)) {
            try env.count("select count(*)::int8 as n from inbound_ledger") == total
        }
        #expect(try env.count("select count(*)::int8 as n from leads") == people)
        #expect(try env.count("select count(*)::int8 as n from lead_touches") == total)
        #expect(try env.count("select count(*)::int8 as n from (select source, message_id from lead_touches group by 1, 2 having count(*) > 1) d") == 0)
        #expect(try env.count("select coalesce(sum(touch_count), 0)::int8 as n from leads") == total)
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermFinishesTheBatchAndExitsCleanly() async throws {
        let env = try TestEnvironment(batchSize: 100)
        defer { env.tearDown() }
        try env.publish((0..<3000).map { DemoData.webForm($0, run: "t5", messageID: "t5-\($0)") })
        let worker = try WorkerProcess(env: env)
        try await env.waitUntil("worker under way") { try env.count("select count(*)::int8 as n from inbound_ledger") >= 100 }
        let status = worker.terminate()
        #expect(status == 0)
        // What was committed is all there; the rest stays queued for the next worker.
        let committed = try env.count("select count(*)::int8 as n from inbound_ledger")
        let conn = try env.amqp()
        defer { conn.close() }
        let queued = try conn.declareQueue("rapport.inbound.webform", passive: true).messages
        #expect(committed + queued == 3000)
    }

    @Test(.timeLimit(.minutes(2)))
    func replayAfterFixingTheCause() async throws {
        // A worker whose body limit is too small dead-letters a normal form…
        let env = try TestEnvironment(maxBodyBytes: 300)
        defer { env.tearDown() }
        var small = env.settings
        small.maxBodyBytes = 300
        let tooSmall = try env.startWorkers(ingest: try env.ingestConsumer(settings: small))
        try env.publish([DemoData.webForm(1, run: "t6", messageID: "t6-big", bodyPadding: 600),
                         DemoData.malformed(1, run: "t6")])
        try await env.waitUntil("two dead letters") { try env.count("select count(*)::int8 as n from dead_letters") == 2 }
        tooSmall.stop()
        let db = try env.db()
        defer { db.close() }
        let admin = DeadLetterAdmin(db: db, keyring: env.keyring)
        let big = try #require(try admin.list(.init(reason: "body_too_large")).first)
        let bad = try #require(try admin.list(.init(reason: "missing_contact")).first)
        #expect(big.messageID == "t6-big")

        // …the limit is raised, and the dead letter is replayed.
        var fixed = env.settings
        fixed.maxBodyBytes = 65_536
        let workers = try env.startWorkers(ingest: try env.ingestConsumer(settings: fixed))
        defer { workers.stop() }
        let publisher = try env.amqp(name: "replayer")
        defer { publisher.close() }
        let dry = try admin.replay(.init(ids: [big.id]), publisher: publisher, actor: "test", dryRun: true)
        #expect(dry.selected == 1 && dry.replayed == 0)
        #expect(try admin.show(big.id)?.summary.status == "dead")

        let report = try admin.replay(.init(ids: [big.id]), publisher: publisher, actor: "test")
        #expect(report.replayed == 1 && report.failed.isEmpty)
        try await env.waitUntil("replayed message ingested") {
            try env.count("select count(*)::int8 as n from inbound_ledger where message_id = 't6-big'") == 1
        }
        let shown = try #require(try admin.show(big.id))
        #expect(shown.summary.status == "replayed")
        #expect(shown.history.map(\.action) == ["replay"])
        // Replaying it again selects nothing: it is no longer dead.
        #expect(try admin.replay(.init(ids: [big.id]), publisher: publisher, actor: "test").selected == 0)

        // A message still broken comes back as a new dead letter pointing at the one replayed.
        _ = try admin.replay(.init(ids: [bad.id]), publisher: publisher, actor: "test")
        try await env.waitUntil("failed replay archived") { try env.count("select count(*)::int8 as n from dead_letters") == 3 }
        let newest = try #require(try admin.list(.init(reason: "missing_contact", status: "dead")).first)
        #expect(newest.replayedFrom == bad.id)
        #expect(newest.id != bad.id)

        // Purge keeps the row and audits it.
        #expect(try admin.purge(.init(ids: [newest.id]), actor: "test", reason: "spam") == 1)
        #expect(try admin.show(newest.id)?.summary.status == "purged")
        #expect(try admin.show(newest.id)?.history.last?.detail == "spam")
    }

    @Test(.timeLimit(.minutes(2)))
    func brokerDeadLettersAtTheDeliveryLimitAreArchived() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try env.publish([DemoData.webForm(7, run: "t7", messageID: "t7-poison")].map {
            var m = $0
            m.routingKey = "inbound.ads.partner"
            return m
        })
        // A consumer that keeps failing (requeue) until the broker gives up on the message.
        let conn = try env.amqp()
        defer { conn.close() }
        try conn.consume(queue: "rapport.inbound.ads")
        var deliveries = 0
        try await env.waitUntil("broker dead-lettered the message") {
            while let d = try conn.nextDelivery(timeout: .milliseconds(100)) {
                deliveries += 1
                try conn.reject(d.deliveryTag, requeue: true)
            }
            return try conn.declareQueue("rapport.inbound.ads", passive: true).messages == 0 && deliveries > 1
        }
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try await env.waitUntil("archived") { try env.count("select count(*)::int8 as n from dead_letters") == 1 }
        let db = try env.db()
        defer { db.close() }
        let dl = try #require(try DeadLetterAdmin(db: db, keyring: env.keyring).list(.init(all: true)).first)
        #expect(dl.errorCode == RejectionCode.deliveryLimit.rawValue)
        #expect(dl.messageID == "t7-poison")
        #expect(dl.routingKey == "inbound.ads.partner")
        let detail = try #require(try DeadLetterAdmin(db: db, keyring: env.keyring).show(dl.id))
        #expect(detail.headers.objectValue?["x-death"] != nil)
        #expect(deliveries == 6)  // x-delivery-limit 5: the sixth delivery was the last
    }
}
