import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportStore
import RapportTesting

/// Customers, prospects and the knowledge base through `rapport.commands` on the real broker: replies
/// on `reply_to`, once per message id, typed refusals; a prospect becomes a lead through the outbox and
/// the normal ingest path, never a second record.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run record command tests"))
struct RecordCommandsTests {
    final class Caller {
        let conn: AMQPConnection
        var queue = ""
        var tag = ""
        var n = 0

        /// A caller logged in as the test's broker user, or as `user` (with its development password).
        init(_ env: TestEnvironment, as user: String? = nil) throws {
            self.conn = try user.map { try env.amqp(as: $0) } ?? env.amqp(name: "crm-ui")
            self.queue = try self.conn.declareQueue("", durable: false, exclusive: true, autoDelete: true).name
            self.tag = try self.conn.consume(queue: self.queue)
        }

        deinit { self.conn.close() }

        /// Sends a command and returns its reply; `id` repeats a message id.
        func call(_ key: String, _ body: JSONValue, id: String? = nil) throws -> [String: JSONValue] {
            self.n += 1
            let messageID = id ?? "rc-\(self.n)"
            var p = AMQPProperties(contentType: "application/json", messageID: messageID, appID: "crm-ui")
            p.userID = self.conn.configuration.username
            p.replyTo = self.queue
            p.correlationID = "corr-\(self.n)"
            try self.conn.publish(exchange: "rapport.commands", routingKey: key, body: Array(body.jsonString.utf8), properties: p)
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if let d = try self.conn.nextDelivery(timeout: .milliseconds(200)), d.properties.correlationID == "corr-\(self.n)" {
                    return try JSONValue.parse(d.body).objectValue ?? [:]
                }
            }
            throw TestFailure("no reply to \(key) \(messageID)")
        }

        func ok(_ key: String, _ body: JSONValue, id: String? = nil) throws -> [String: JSONValue] {
            let reply = try self.call(key, body, id: id)
            guard reply["ok"] == .bool(true), let result = reply["result"]?.objectValue else {
                throw TestFailure("\(key) failed: \(JSONValue.object(reply).jsonString)")
            }
            return result
        }
    }

    static func error(_ reply: [String: JSONValue]) -> (String?, String?) {
        let e = reply["error"]?.objectValue
        return (e?["code"]?.stringValue, e?["field"]?.stringValue)
    }

    /// A test database and vhost with the workers (commands too) running, and a caller.
    static func withWorkers(_ body: (TestEnvironment, Caller) async throws -> Void) async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let workers = try env.startWorkers(commands: true)
        defer { workers.stop() }
        try await body(env, try Caller(env))
    }

    @Test(.timeLimit(.minutes(3)))
    func customersByCommandOnceEachWithTypedRefusals() async throws {
        try await Self.withWorkers { env, ui in
            _ = try ui.ok("rep.upsert", ["rep_id": "li"])
            _ = try ui.ok("field.define", ["key": "tier", "label": "Tier", "kind": "option", "options": ["gold", "silver"]])

            let added = try ui.ok("customer.add", ["customer": ["name": "张伟", "phones": ["138 0013 8000"], "owner": "li", "custom": ["tier": "gold"]]], id: "add-1")
            let id = try #require(added["customer_id"]?.stringValue)
            // The same message again creates nothing and answers the same.
            #expect(try ui.ok("customer.add", ["customer": ["name": "张伟", "phones": ["138 0013 8000"]]], id: "add-1")["customer_id"]?.stringValue == id)
            // Someone already there, by a new message: the match, not a second customer.
            let again = try ui.ok("customer.add", ["customer": ["name": "张伟", "phones": ["+86 13800138000"]]])
            #expect(again["created"] == false && again["match"]?.objectValue?["id"]?.stringValue == id)
            #expect(try env.count("select count(*)::int8 as n from customers") == 1)

            let edited = try ui.ok("customer.edit", ["customer_id": .string(id), "version": 1, "changes": ["level": "A", "custom": ["tier": "silver"]]])
            #expect(edited["version"] == 2)
            let stale = try ui.call("customer.edit", ["customer_id": .string(id), "version": 1, "changes": ["level": "B"]])
            #expect(Self.error(stale) == ("conflict", "version"))
            #expect(stale["current"]?.objectValue?["level"] == "A")
            #expect(Self.error(try ui.call("customer.edit", ["customer_id": .string(id), "version": 2, "changes": ["colour": "red"]])) == ("unknown_field", "colour"))
            #expect(Self.error(try ui.call("customer.edit", ["customer_id": .string(id), "version": 2, "changes": ["custom": ["tier": 5]]])) == ("invalid", "custom.tier"))
            #expect(Self.error(try ui.call("customer.edit", ["customer_id": .string(id), "version": 2, "changes": ["phones": ["12"]]])) == ("invalid", "phones[0]"))
            #expect(Self.error(try ui.call("customer.get", ["customer_id": .string(UUID().uuidString)])) == ("not_found", "customer_id"))
            // A malformed command names its field (and is dead-lettered).
            #expect(Self.error(try ui.call("customer.edit", ["customer_id": .string(id), "changes": ["level": "B"]])) == ("invalid_field", "version"))

            let history = try ui.ok("customer.history", ["customer_id": .string(id)])["history"]
            guard case .array(let rows)? = history else { Issue.record("no history"); return }
            #expect(rows.contains { $0.objectValue?["field"] == "custom.tier" && $0.objectValue?["old"] == "gold" && $0.objectValue?["new"] == "silver" && $0.objectValue?["actor"] == .string(ui.conn.configuration.username) })

            let found = try ui.ok("customer.search", ["text": "zw", "filters": ["level": "A"]])
            guard case .array(let results)? = found["results"] else { Issue.record("no results"); return }
            #expect(results.count == 1 && results.first?.objectValue?["id"]?.stringValue == id)
            #expect(results.first?.objectValue?["matched"] == [["term": "zw", "field": "name", "value": "张伟", "how": "initials"]])
            #expect(Self.error(try ui.call("customer.search", ["filters": ["colour": "red"]])) == ("unknown_field", "filters.colour"))

            _ = try ui.ok("search.save", ["rep_id": "li", "name": "A级", "entity": "customers", "filters": ["level": "A"]])
            guard case .array(let saved)? = try ui.ok("search.saved", ["rep_id": "li", "name": "A级"])["results"] else { Issue.record("no saved run"); return }
            #expect(saved.count == 1)

            _ = try ui.ok("customer.delete", ["customer_id": .string(id)])
            guard case .array(let none)? = try ui.ok("customer.search", ["text": "张伟"])["results"] else { return }
            #expect(none.isEmpty)
            _ = try ui.ok("customer.restore", ["customer_id": .string(id)])
            #expect(try ui.ok("customer.get", ["customer_id": .string(id)])["deleted_at"] == .null)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aProspectBecomesALeadThroughIngestAndNeverTwice() async throws {
        try await Self.withWorkers { env, ui in
            let code = "91110108MA01ABCD3X"
            let valid = try #require(Self.withCheck(String(code.prefix(17))))
            let p = try ui.ok("prospect.add", ["prospect": ["name": "北京华信科技有限公司", "credit_code": .string(valid), "legal_rep": "张伟",
                                                            "registered_capital": "500万元", "founded_on": "2015年3月12日", "city": "北京",
                                                            "industry": "软件", "phones": ["136 7123 4095"]], "source": "qichacha"])
            let prospect = try #require(p["prospect_id"]?.stringValue)
            #expect(p["created"] == true)
            // The same company again (by credit code) is the same prospect.
            let again = try ui.ok("prospect.add", ["prospect": ["name": "北京华信科技有限公司", "credit_code": .string(valid.lowercased()), "size": "50-99人"]])
            #expect(again["prospect_id"]?.stringValue == prospect && again["created"] == false)
            #expect(Self.error(try ui.call("prospect.add", ["prospect": ["name": "x", "credit_code": "91110108MA01ABCD3"]])) == ("invalid", "credit_code"))

            // Found by the same engine, with its filters.
            guard case .array(let hits)? = try ui.ok("prospect.search", ["text": "hx", "filters": ["capital": ["min": 1000000], "city": "北京"]])["results"] else { return }
            #expect(hits.count == 1 && hits.first?.objectValue?["registered_capital"] == "5000000.00")

            // Someone already a lead with that phone: "add as lead" twice ends as that lead, nothing new. (Not
            // 13800138000: the matcher knows it as a placeholder, which identifies nobody.)
            try env.publish([InboundMessage(routingKey: "inbound.webform.site", body: Array(#"{"name": "张伟", "phone": "13671234095"}"#.utf8),
                                            properties: AMQPProperties(contentType: "application/json", messageID: "form-1", appID: "site"))])
            try await env.waitUntil("the form is a lead") { try env.count("select count(*)::int8 as n from leads") == 1 }
            _ = try ui.ok("prospect.to_lead", ["prospect_id": .string(prospect)])
            _ = try ui.ok("prospect.to_lead", ["prospect_id": .string(prospect)])
            try await env.waitUntil("the prospect reached the ledger") {
                try env.count("select count(*)::int8 as n from inbound_ledger where source = 'prospects'") == 1
            }
            #expect(try env.count("select count(*)::int8 as n from leads") == 1)
            let view = try ui.ok("prospect.get", ["prospect_id": .string(prospect)])
            #expect(view["lead"]?.objectValue?["lead_id"] != nil && view["lead"]?.objectValue?["lead_id"] != .null)
            guard case .array(let withLead)? = try ui.ok("prospect.search", ["filters": ["has_lead": true]])["results"] else { return }
            #expect(withLead.count == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func theKnowledgeBaseVersionsSearchesAndCounts() async throws {
        try await Self.withWorkers { env, ui in
            let a = try ui.ok("kb.write", ["article": ["title": "如何重置密码", "body": "在登录页点击**忘记密码**，输入手机号获取验证码。", "category": "账号",
                                                        "tags": ["登录"], "audience": "public"]])
            let id = try #require(a["article_id"]?.stringValue)
            #expect(a["version"] == 1)
            #expect(try ui.ok("kb.write", ["article_id": .string(id), "version": 1, "article": ["status": "published"]])["version"] == 2)
            #expect(Self.error(try ui.call("kb.write", ["article_id": .string(id), "version": 1, "article": ["title": "x"]])) == ("conflict", "version"))
            #expect(Self.error(try ui.call("kb.write", ["article": ["title": "t", "audience": "everyone"]])) == ("invalid", "audience"))
            let b = try ui.ok("kb.write", ["article": ["title": "销售话术：首次电话", "body": "开场白……", "audience": "internal", "status": "published"]])
            _ = try ui.ok("kb.relate", ["article_id": .string(id), "related_ids": [b["article_id"]!]])
            _ = try ui.ok("kb.feedback", ["article_id": .string(id), "helpful": true])
            _ = try ui.ok("kb.feedback", ["article_id": .string(id), "helpful": false])
            _ = try ui.ok("kb.feedback", ["article_id": .string(id), "helpful": true])

            for (text, filters) in [("密码", [:]), ("mima", [:]), ("rhcz", [:]), ("chongzhi", [:]), ("验证码", ["audience": "public"])] as [(String, [String: JSONValue])] {
                guard case .array(let hits)? = try ui.ok("kb.search", ["text": .string(text), "filters": .object(filters)])["results"] else { return }
                #expect(hits.map { $0.objectValue?["id"]?.stringValue } == [id], "\(text)")
            }
            guard case .array(let internalHits)? = try ui.ok("kb.search", ["text": "话术", "filters": ["audience": "public"]])["results"] else { return }
            #expect(internalHits.isEmpty)
            let view = try ui.ok("kb.get", ["article_id": .string(id)])
            #expect(view["helpful_yes"] == 2 && view["helpful_no"] == 1 && view["status"] == "published")
            #expect((view["related"].flatMap { if case .array(let r) = $0 { r } else { nil } })?.count == 1)
            #expect(try ui.ok("kb.get", ["article_id": .string(id), "version": 1])["status"] == "draft")
        }
    }

    /// A credit code with its check character computed (GB 32100-2015).
    static func withCheck(_ first17: String) -> String? {
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" {
            if let v = ProspectRecord.creditCode(first17 + String(c)) { return v }
        }
        return nil
    }
}
