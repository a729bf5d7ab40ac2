import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportServices
import RapportStore
import RapportDecoding
import RapportTesting
import RapportAdmin

/// Issue 12 end to end: broker identities per source, signed messages, and every refusal as a dead
/// letter with its code while nothing valid is lost.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run source security tests"))
struct SourceSecurityIntegrationTests {
    static let source = "site-main"

    /// A web form from `site-main`'s routing key.
    static func form(_ i: Int, id: String, run: String = "sec") -> InboundMessage {
        var m = DemoData.webForm(i, run: run, messageID: id)
        m.routingKey = "inbound.webform.\(Self.source)"
        return m
    }

    static func codes(_ env: TestEnvironment) throws -> [String: Int] {
        let db = try env.db()
        defer { db.close() }
        var out: [String: Int] = [:]
        for row in try db.query("select error_code, count(*)::int8 as n from dead_letters group by 1") {
            out[try row.decode("error_code")] = try row.decode("n")
        }
        return out
    }

    @Test(.timeLimit(.minutes(3)))
    func signedMessagesAreCheckedAndEveryRefusalHasItsCode() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try env.applyIdentities()
        let db = try env.db()
        defer { db.close() }
        let registry = SourceRegistry(db: db)
        let key = Ed25519.PrivateKey(), stranger = Ed25519.PrivateKey(), leaked = Ed25519.PrivateKey()
        let keyID = try #require(try registry.add(Self.source, mustSign: true, publicKey: key.publicKey))
        // A second key, registered and then revoked: what it signs is refused from then on.
        let leakedID = try registry.rotate(Self.source, publicKey: leaked.publicKey, overlap: 3600)
        try registry.revoke(keyID: leakedID)

        let now = Date()
        let valid = (0..<3).map { Self.form($0, id: "ok-\($0)").signed(as: Self.source, key: key, keyID: keyID) }
        var changedBody = Self.form(10, id: "changed-body").signed(as: Self.source, key: key, keyID: keyID)
        changedBody.body = Self.form(11, id: "changed-body").body
        let refused: [(InboundMessage, String)] = [
            (Self.form(12, id: "forged").signed(as: Self.source, key: stranger, keyID: keyID), "bad_signature"),
            (changedBody, "bad_signature"),
            (Self.form(13, id: "routing").signed(as: Self.source, key: key, keyID: keyID, signedRoutingKey: "inbound.import.site-main"),
             "bad_signature"),
            (Self.form(14, id: "unsigned").published(as: Self.source), "unsigned"),
            (Self.form(15, id: "unknown").signed(as: Self.source, key: stranger, keyID: "site-main-19990101-00000000"), "unknown_key"),
            (Self.form(16, id: "revoked").signed(as: Self.source, key: leaked, keyID: leakedID), "revoked_key"),
            (Self.form(17, id: "stale").signed(as: Self.source, key: key, keyID: keyID, signedAt: now.addingTimeInterval(-7200)), "stale"),
            // The same message id as an accepted one, with another body, properly signed: a replay.
            (Self.form(18, id: "ok-0").signed(as: Self.source, key: key, keyID: keyID), "replayed"),
        ]
        try env.publish(valid + refused.map(\.0), as: Self.source)
        // Claiming the registered source without its broker login (published as guest, app_id only).
        var claimed = Self.form(19, id: "claimed")
        claimed.properties.appID = Self.source
        try env.publish([claimed])

        let workers = try env.startWorkers()
        defer { workers.stop() }
        do {
            try await env.waitUntil("every message accounted for") {
                try env.count("select count(*)::int8 as n from inbound_ledger") + env.count("select count(*)::int8 as n from dead_letters")
                    == valid.count + refused.count + 1
            }
        } catch {
            Issue.record("ledger \(try env.count("select count(*)::int8 as n from inbound_ledger")), dead letters \(try Self.codes(env))")
            throw error
        }
        // A redelivery of an accepted message (same body) is a no-op, not a replay.
        try env.publish([valid[1]], as: Self.source)
        try await Task.sleep(for: .seconds(1))
        try await env.waitUntil("queue drained") {
            try env.count("select count(*)::int8 as n from inbound_ledger") + env.count("select count(*)::int8 as n from dead_letters")
                == valid.count + refused.count + 1
        }

        // Nothing valid is lost, every refusal has its code.
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where source = $1 and key_id = $2 and signature like 'ed25519:%'",
                              [Self.source, keyID]) == valid.count)
        var expected: [String: Int] = ["unauthenticated_source": 1]
        for (_, code) in refused { expected[code, default: 0] += 1 }
        #expect(try Self.codes(env) == expected)
        // Forged and unauthenticated messages are on the audit chain, by the code they were refused with.
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'message.refused'") == refused.count + 1)
        #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'message.refused' and detail like 'replayed %'") == 1)
        #expect(try env.count("select count(*)::int8 as n from dead_letters where headers->>'x-rapport-error' is null and error is null") == 0)

        // Non-repudiation: the stored row still verifies, against its body and not another.
        let check = try #require(try registry.verifyLedger(source: nil, messageID: "ok-2", body: valid[2].body))
        #expect(check.valid && check.bodyMatches == true && check.keyID == keyID && check.keyStatus == "active")
        #expect(try registry.verifyLedger(source: Self.source, messageID: "ok-2", body: valid[1].body)?.bodyMatches == false)
        try db.query("update inbound_ledger set routing_key = 'inbound.webform.landing-spring' where message_id = 'ok-2'")
        #expect(try registry.verifyLedger(source: Self.source, messageID: "ok-2")?.valid == false)
    }

    @Test(.timeLimit(.minutes(2)))
    func theBrokerRefusesAnotherSourcesRoutingKeyAndAForeignUserID() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try env.applyIdentities()

        // site-main may write only routing keys ending in its own name.
        var other = Self.form(0, id: "other-key").published(as: Self.source)
        other.routingKey = "inbound.webform.landing-spring"
        let e1 = #expect(throws: AMQPError.self) { try env.publish([other], as: Self.source) }
        #expect(e1?.replyCode == 403, "\(String(describing: e1))")

        // user_id must equal the login: site-main cannot pass as landing-spring.
        var foreign = Self.form(1, id: "foreign-user").published(as: "landing-spring")
        foreign.routingKey = "inbound.webform.site-main"
        let e2 = #expect(throws: AMQPError.self) { try env.publish([foreign], as: Self.source) }
        #expect(e2?.replyCode == 406, "\(String(describing: e2))")

        // Its own key, as itself: accepted by the broker (confirmed), and only that one reached the queue.
        try env.publish([Self.form(2, id: "own").published(as: Self.source)], as: Self.source)
        let conn = try env.amqp()
        defer { conn.close() }
        #expect(try conn.purgeQueue("rapport.inbound.webform") == 1)
    }

    /// A signed message refused for a key not yet registered is not lost: once the key is registered, the
    /// admin replays it and it keeps its source (the admin's identity may impersonate; guest may not).
    @Test(.timeLimit(.minutes(2)))
    func aDeadLetterReplayedByTheAdminKeepsItsSource() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try env.applyIdentities()
        let db = try env.db()
        defer { db.close() }
        let registry = SourceRegistry(db: db)
        let key = Ed25519.PrivateKey()
        let now = Date()
        try registry.add(Self.source, mustSign: true, publicKey: nil)
        let keyID = SourceRegistry.keyID(source: Self.source, publicKey: key.publicKey, now: now)
        try env.publish([Self.form(0, id: "early").signed(as: Self.source, key: key, keyID: keyID)], as: Self.source)
        let workers = try env.startWorkers()
        defer { workers.stop() }
        try await env.waitUntil("refused for its key") {
            try env.count("select count(*)::int8 as n from dead_letters where error_code = 'unknown_key'") == 1
        }
        #expect(try registry.rotate(Self.source, publicKey: key.publicKey, overlap: 0, now: now) == keyID)
        try await Task.sleep(for: .seconds(6))  // the workers read the registry every 5 s

        let admin = DeadLetterAdmin(db: db, keyring: env.keyring)
        let letter = try #require(try admin.list(.init(reason: "unknown_key")).first)
        // The test's own login may not set another user's user_id: the broker refuses the replay.
        let guest = try env.amqp(name: "replayer")
        defer { guest.close() }
        #expect(throws: (any Error).self) { try admin.replay(.init(ids: [letter.id]), publisher: guest, actor: "test") }
        let publisher = try env.amqp(as: "rapport-admin")
        defer { publisher.close() }
        let report = try admin.replay(.init(ids: [letter.id]), publisher: publisher, actor: "test")
        #expect(report.replayed == 1 && report.failed.isEmpty)
        try await env.waitUntil("replayed message accepted as its source") {
            try env.count("select count(*)::int8 as n from inbound_ledger where message_id = 'early' and source = $1 and key_id = $2",
                          [Self.source, keyID]) == 1
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aRotationKeepsTheOldKeyForTheOverlapOnly() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let registry = SourceRegistry(db: db)
        let first = Ed25519.PrivateKey(), second = Ed25519.PrivateKey()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        let oldID = try #require(try registry.add("partner-portal", mustSign: true, publicKey: first.publicKey, now: t0))
        let newID = try registry.rotate("partner-portal", publicKey: second.publicKey, overlap: 600, now: t0.addingTimeInterval(60))
        #expect(oldID != newID)
        let keys = try #require(try registry.list().first { $0.source.name == "partner-portal" }).keys
        #expect(keys.first { $0.keyID == oldID }?.retiresAt == t0.addingTimeInterval(660))
        #expect(keys.first { $0.keyID == newID }?.retiresAt == nil)
        #expect(throws: SourceRegistryError.self) { try registry.rotate("nobody", publicKey: second.publicKey, overlap: 0) }
        #expect(throws: SourceRegistryError.self) { try registry.revoke(keyID: "no-such-key") }
        #expect(throws: SourceRegistryError.self) { try registry.add("bad.name", mustSign: false, publicKey: nil) }
        // A move to the 国密 suite: the next key is SM2; the Ed25519 ones still verify for their overlap.
        let gm = SM2.PrivateKey()
        let gmID = try registry.rotate("partner-portal", publicKey: .sm2(gm.publicKey), overlap: 600, now: t0.addingTimeInterval(120))

        // What the worker checks with: the old key inside the overlap, not after.
        let policy = SourcePolicyCache(verifier: SignatureVerifier(window: 900))
        let snapshot = try policy.policy(db)
        func verdict(_ key: Signer, _ id: String, at t: Date) -> String {
            var env = RapportDecoding.InboundEnvelope(exchange: "rapport.inbound", routingKey: "inbound.webform.partner-portal", messageID: "m",
                                                      appID: nil, contentType: "application/json", body: Array("{}".utf8))
            let m = InboundMessage(routingKey: env.routingKey, body: env.body,
                                   properties: AMQPProperties(contentType: "application/json", messageID: "m"))
                .signed(as: "partner-portal", key: key, keyID: id, signedAt: t)
            env.userID = "partner-portal"
            for (k, v) in m.properties.headers { env.securityHeaders[k] = v.stringValue ?? v.intValue.map(String.init) }
            switch snapshot.admit(&env, now: t) {
            case .success: return "ok"
            case .failure(let r): return r.code.rawValue
            }
        }
        #expect(verdict(.ed25519(first), oldID, at: t0.addingTimeInterval(300)) == "ok")
        #expect(verdict(.ed25519(second), newID, at: t0.addingTimeInterval(300)) == "ok")
        #expect(verdict(.ed25519(first), oldID, at: t0.addingTimeInterval(2000)) == "revoked_key")
        #expect(verdict(.sm2(gm), gmID, at: t0.addingTimeInterval(300)) == "ok")
        #expect(verdict(.sm2(gm), gmID, at: t0.addingTimeInterval(2000)) == "ok")
        #expect(verdict(.ed25519(second), gmID, at: t0.addingTimeInterval(300)) == "bad_signature")
        #expect(verdict(.sm2(gm), newID, at: t0.addingTimeInterval(300)) == "bad_signature")
        #expect(try registry.key(gmID)?.publicKey == .sm2(gm.publicKey))
    }
}
