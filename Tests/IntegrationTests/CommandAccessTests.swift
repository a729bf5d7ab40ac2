import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportStore
import RapportTesting

/// Commands authorised by who sent them, on the real broker: the sender is the validated user_id.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run command access tests"))
struct CommandAccessIntegrationTests {
    /// Broker users for people, with development passwords, allowed to send commands in this vhost.
    static func people(_ env: TestEnvironment, _ names: [String]) throws {
        for n in names {
            try env.management("PUT", "/api/users/\(n)", body: #"{"password": "\#(n)", "tags": ""}"#)
            try env.management("PUT", "/api/permissions/\(env.name)/\(n)",
                               body: #"{"configure": "^amq\\.gen-.*", "write": "^(rapport\\.commands|amq\\.gen-.*)$", "read": "^amq\\.gen-.*"}"#)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func repsActForThemselvesManagersForTheirTeam() async throws {
        try await RecordCommandsTests.withWorkers { env, admin in
            let db = try env.db()
            defer { db.close() }
            try db.execute("""
                insert into teams (id, name) values ('east', '华东'), ('west', '华西');
                insert into reps (id, name, team_id) values ('rep-li', '李雷', 'east'), ('rep-wang', '王芳', 'east'), ('rep-zhao', '赵强', 'west');
                """)
            let principals = Principals(db: db)
            try principals.upsert(.init(name: "u-li", role: .rep, repID: "rep-li"))
            try principals.upsert(.init(name: "u-mgr-east", role: .manager, teamID: "east"))
            try Self.people(env, ["u-li", "u-mgr-east", "u-stranger"])
            let li = try RecordCommandsTests.Caller(env, as: "u-li")
            let manager = try RecordCommandsTests.Caller(env, as: "u-mgr-east")
            let stranger = try RecordCommandsTests.Caller(env, as: "u-stranger")

            // A customer of rep-wang (team east) and one of rep-zhao (team west).
            let wangs = try admin.ok("customer.add", ["customer": ["name": "上海甲公司", "phones": ["13800138001"], "owner": "rep-wang"]])
            let zhaos = try admin.ok("customer.add", ["customer": ["name": "成都乙公司", "phones": ["13800138002"], "owner": "rep-zhao"]])
            let wangID = try #require(wangs["customer_id"]?.stringValue), zhaoID = try #require(zhaos["customer_id"]?.stringValue)

            func code(_ reply: [String: JSONValue]) -> String? { RecordCommandsTests.error(reply).0 }
            // A rep claiming for another rep; editing another rep's customer.
            #expect(code(try li.call("lead.claim", ["rep_id": "rep-wang", "count": 1])) == "forbidden")
            #expect(code(try li.call("customer.edit", ["customer_id": .string(wangID), "version": 1, "changes": ["industry": "制造"]])) == "forbidden")
            // For themselves: allowed (no leads to claim is an answer, not a refusal).
            #expect(code(try li.call("lead.claim", ["rep_id": "rep-li", "count": 1])) != "forbidden")
            // A manager inside the team, and outside it.
            #expect(code(try manager.call("customer.edit", ["customer_id": .string(wangID), "version": 1, "changes": ["industry": "制造"]])) == nil)
            #expect(code(try manager.call("customer.edit", ["customer_id": .string(zhaoID), "version": 1, "changes": ["industry": "制造"]])) == "forbidden")
            #expect(code(try manager.call("lead.claim", ["rep_id": "rep-zhao", "count": 1])) == "forbidden")
            // A broker user that is not a principal.
            #expect(code(try stranger.call("customer.search", ["q": "公司"])) == "forbidden")
            // The body's "actor" claims nothing: rep-zhao's customer stays unedited.
            #expect(code(try li.call("customer.edit", ["customer_id": .string(zhaoID), "version": 1, "changes": ["industry": "x"], "actor": "rapport-admin"])) == "forbidden")
            #expect(try env.count("select count(*)::int8 as n from customers where id = $1::uuid and industry is not null", [zhaoID]) == 0)

            // Every refusal recorded, and dead-lettered with its code.
            #expect(try env.count("select count(*)::int8 as n from access_refusals") == 6)
            #expect(try env.count("select count(*)::int8 as n from access_refusals where principal = 'u-li'") == 3)
            // …and on the audit chain, which still holds.
            #expect(try env.count("select count(*)::int8 as n from audit_log where action = 'command.refused'") == 6)
            #expect(try AuditLog(db: db).verify().break == nil)
            try await env.waitUntil("refusals archived") {
                try env.count("select count(*)::int8 as n from dead_letters where error_code = 'forbidden'") == 6
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aCommandWithoutUserIDIsRefused() async throws {
        try await RecordCommandsTests.withWorkers { env, _ in
            let conn = try env.amqp()
            defer { conn.close() }
            let q = try conn.declareQueue("", durable: false, exclusive: true, autoDelete: true).name
            try conn.consume(queue: q)
            var p = AMQPProperties(contentType: "application/json", messageID: "no-user", appID: "rapport-admin")
            p.replyTo = q
            try conn.publish(exchange: "rapport.commands", routingKey: "customer.search", body: Array(#"{"q": "x"}"#.utf8), properties: p)
            var reply: JSONValue?
            let deadline = ContinuousClock.now + .seconds(20)
            while reply == nil && ContinuousClock.now < deadline {
                if let d = try conn.nextDelivery(timeout: .milliseconds(200)) { reply = try JSONValue.parse(d.body) }
            }
            #expect(reply?.objectValue?["error"]?.objectValue?["code"] == "forbidden")
            #expect(try env.count("select count(*)::int8 as n from access_refusals where principal is null") == 1)
        }
    }
}
