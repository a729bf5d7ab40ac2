import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportStore
import RapportTesting
import RapportAdmin

/// Customers as people edit them, on the real database: add through identity resolution, edit by
/// version, delete and restore, merge and unmerge, custom fields and the history.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run customer integration tests"))
struct CustomerRecordsTests {
    static func with(_ body: (TestEnvironment, PGConnection, Customers) throws -> Void) throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        try LeadPool(db: db).upsertRep(id: "li", name: "李雷", team: nil, active: true, capacity: 10)
        try body(env, db, Customers(db: db, keyring: env.keyring))
    }

    static func created(_ o: Customers.AddOutcome) throws -> UUID {
        guard case .created(let id, _) = o else { throw CustomerError(.invalid, "expected a new customer, got \(o)") }
        return id
    }

    static func code(_ body: () throws -> Void) -> (String, String?)? {
        do { try body() } catch let e as CustomerError { return (e.code.rawValue, e.field) } catch { return ("other: \(error)", nil) }
        return nil
    }

    static let huaxin: [String: JSONValue] = [
        "kind": "company", "name": "北京华信科技有限公司", "phones": ["010-6255 8888"], "industry": "软件", "owner": "li",
        "tags": ["重点", "华北"],
        "contacts": [["name": "张伟", "title": "采购经理", "phones": ["138 0013 8000"], "emails": ["Zhang.Wei@HuaXin.cn"]],
                     ["name": "李娜", "phones": ["+86 139 1234 5678"], "primary": true]],
        "addresses": [["province": "北京", "city": "北京", "district": "海淀区", "line": "中关村大街1号"]],
    ]

    @Test func addFindsWhoIsAlreadyThereAndWarnsTheOwner() throws {
        try Self.with { env, db, customers in
            let id = try Self.created(try customers.add(Self.huaxin, actor: "test"))
            let stored = try #require(try customers.get(id))
            #expect(stored.record.contacts.map(\.name) == ["张伟", "李娜"])
            #expect(stored.record.contacts[1].primary && !stored.record.contacts[0].primary)
            #expect(stored.record.contacts[0].emails == ["zhang.wei@huaxin.cn"])
            #expect(stored.record.phones == ["+861062558888"])
            #expect(try env.count("select count(*) as n from customer_identities where customer_id = $1::uuid", [id.uuidString.lowercased()]) == 4)

            // The same person by a contact's phone: the match comes back, nothing new, the owner is warned.
            let again = try customers.add(["name": "张伟", "phones": ["13800138000"]], actor: "wang")
            guard case .matched(let m) = again else { Issue.record("expected a match, got \(again)"); return }
            #expect(m.id == id && m.kind == "customer" && m.owner == "li" && m.key == "phone:+8613800138000")
            #expect(try env.count("select count(*) as n from customers") == 1)
            #expect(try env.count("select count(*) as n from outbox where routing_key = 'customer.duplicate_detected' and payload->>'owner' = 'li'") == 1)

            // A company of the same registered name is the same company.
            guard case .matched = try customers.add(["kind": "company", "name": "北京华信科技有限公司"], actor: "wang") else {
                Issue.record("the same company name must match"); return
            }
            // Unless the caller confirms it is someone else (the key stays with the first).
            let other = try Self.created(try customers.add(["name": "张伟", "phones": ["13800138000"]], differentPerson: true, actor: "wang"))
            #expect(other != id)

            // An owned lead is a match too.
            let lead = UUID()
            try db.query("insert into leads (id, name, phone, source, channel, owner, first_seen_at, last_seen_at) values ($1::uuid, '王芳', '+8613700001111', 't', 'webform', 'li', now(), now())",
                         [lead.uuidString.lowercased()])
            let index = try env.keyring.blindIndex(db: db)
            try db.query("insert into lead_identities (key, lead_id) values ($2, $1::uuid)", [lead.uuidString.lowercased(), index("phone:+8613700001111")])
            guard case .matched(let l) = try customers.add(["name": "王芳", "phones": ["137 0000 1111"]], actor: "wang") else {
                Issue.record("an owned lead must match"); return
            }
            #expect(l.kind == "lead" && l.id == lead)
        }
    }

    @Test func badInputIsRefusedByFieldAndNothingIsWritten() throws {
        try Self.with { env, db, customers in
            try customers.defineField(try CustomFieldDefinition(key: "tier", label: "Tier", kind: .option, options: ["gold", "silver"]))
            try customers.defineField(try CustomFieldDefinition(key: "seats", label: "Seats", kind: .number))
            let cases: [([String: JSONValue], String, String?)] = [
                (["name": "张三", "colour": "red"], "unknown_field", "colour"),
                (["name": "张三", "phones": ["12345"]], "invalid", "phones[0]"),
                (["name": "张三", "contacts": [["name": "李四", "emails": ["not-an-email"]]]], "invalid", "contacts[0].emails[0]"),
                (["name": "张三", "custom": ["seats": "many"]], "invalid", "custom.seats"),
                (["name": "张三", "custom": ["tier": "bronze"]], "invalid", "custom.tier"),
                (["name": "张三", "custom": ["nickname": "x"]], "unknown_field", "custom.nickname"),
                (["name": "张三", "level": "Z"], "invalid", "level"),
                (["name": "张三", "owner": "nobody"], "invalid", "owner"),
                (["phones": ["13800138000"]], "invalid", "name"),
            ]
            for (patch, code, field) in cases {
                let got = Self.code { _ = try customers.add(patch, actor: "t") }
                #expect(got?.0 == code && got?.1 == field, "\(patch)")
            }
            #expect(try env.count("select count(*) as n from customers") == 0)
            #expect(try env.count("select count(*) as n from customer_history") == 0)
            let id = try Self.created(try customers.add(["name": "张三", "custom": ["tier": "gold", "seats": 12]], actor: "t"))
            #expect(Self.code { try customers.edit(id, version: 1, patch: ["phones": ["1"]], actor: "t") }?.0 == "invalid")
            #expect(Self.code { try customers.edit(UUID(), version: 1, patch: ["name": "x"], actor: "t") }?.0 == "not_found")
            #expect(try customers.get(id)?.version == 1)
            #expect(try customers.get(id)?.record.custom == ["tier": "gold", "seats": 12])
        }
    }

    @Test func editByVersionKeepsHistoryAndMovesIdentityKeys() throws {
        try Self.with { env, db, customers in
            let id = try Self.created(try customers.add(["name": "张三", "phones": ["13800138000"], "custom": [:]], actor: "li"))
            let v2 = try customers.edit(id, version: 1, patch: ["phones": ["13900139000"], "level": "A", "tags": ["vip"]], actor: "li")
            #expect(v2 == 2)
            // A stale edit is refused with the current record, never applied.
            do {
                try customers.edit(id, version: 1, patch: ["name": "张三丰"], actor: "wang")
                Issue.record("a stale version must be refused")
            } catch let e as CustomerError {
                #expect(e.code == .conflict)
                #expect(e.current?.objectValue?["version"] == .number(2))
                #expect(e.current?.objectValue?["level"] == "A")
            }
            #expect(try customers.get(id)?.record.name == "张三")
            // Nothing changed: no new version.
            #expect(try customers.edit(id, version: 2, patch: ["level": "A"], actor: "li") == 2)
            let history = try customers.history(id)
            let v2Fields = history.filter { $0.objectValue?["version"] == .number(2) }.compactMap { $0.objectValue?["field"]?.stringValue }
            #expect(v2Fields == ["level", "phones", "tags"])
            let phone = history.first { $0.objectValue?["version"] == .number(2) && $0.objectValue?["field"] == "phones" }?.objectValue
            #expect(phone?["old"] == ["+8613800138000"] && phone?["new"] == ["+8613900139000"] && phone?["actor"] == "li")
            // The 360° view shows tags, custom fields (with labels), contacts and the history.
            try customers.defineField(try CustomFieldDefinition(key: "seats", label: "Seats", kind: .number))
            try customers.edit(id, version: 2, patch: ["custom": ["seats": 30], "contacts": [["name": "李秘书", "title": "助理"]]], actor: "li")
            let view = try #require(try CustomerView.show(id, db: db)?.objectValue)
            #expect(view["customer"]?.objectValue?["tags"] == ["vip"])
            #expect(view["customer"]?.objectValue?["search_tokens"] == nil)
            #expect(view["custom_fields"] == [["key": "seats", "label": "Seats", "kind": "number", "value": 30]])
            #expect(view["contacts"]?.arrayValue?.first?.objectValue?["title"] == "助理")
            #expect(view["history"]?.arrayValue?.contains { $0.objectValue?["field"] == "custom.seats" && $0.objectValue?["new"] == 30 } == true)
            // Identity keys follow: the old phone is free, the new one is this customer's.
            let keys = try db.query("select key from customer_identities where customer_id = $1::uuid", [id.uuidString.lowercased()]).map { try $0.decode("key") as String }
            #expect(keys == [try env.keyring.blindIndex(db: db)("phone:+8613900139000")])
            // Two customers cannot share a phone by an edit.
            let other = try Self.created(try customers.add(["name": "李四", "phones": ["13700137000"]], actor: "li"))
            #expect(Self.code { try customers.edit(other, version: 1, patch: ["phones": ["139 0013 9000"]], actor: "li") }?.1 == "phones")
            #expect(try customers.get(id)?.version == 3)
            _ = env
        }
    }

    @Test func deleteRestoreMergeAndUnmerge() throws {
        try Self.with { env, db, customers in
            let a = try Self.created(try customers.add(["name": "张三", "phones": ["13800138000"]], actor: "li"))
            let b = try Self.created(try customers.add(["name": "张三 (重复)", "phones": ["13900139000"], "emails": ["z3@example.cn"],
                                                        "contacts": [["name": "秘书小王"]]], actor: "li"))
            let search = SearchEngine(db: db)
            func found(_ text: String, deleted: Bool = false) throws -> [UUID] {
                try search.search(SearchQuery(entity: .customers, text: text, filters: deleted ? ["deleted": true] : [:])).hits.map(\.id)
            }
            #expect(try found("张三").count == 2)
            try customers.delete(b, actor: "li")
            #expect(try found("张三") == [a])
            #expect(try found("张三", deleted: true) == [b])
            #expect(Self.code { try customers.edit(b, version: 2, patch: ["name": "x"], actor: "li") }?.0 == "not_found")
            try customers.restore(b, actor: "li")
            #expect(try found("张三").count == 2)

            // Merge: b's contact, phone and identities move to a; b is gone from search but kept.
            try db.query("insert into followup_plans (customer_id, rep_id, kind, due_at) values ($1::uuid, 'li', 'call', now())", [b.uuidString.lowercased()])
            let merge = try customers.merge(winner: a, loser: b, actor: "li", reason: "same person")
            #expect(try found("张三") == [a])
            #expect(try found("13900139000") == [a])
            #expect(try found("秘书") == [a])
            #expect(try customers.get(a)?.record.contacts.map(\.name) == ["秘书小王"])
            #expect(try env.count("select count(*) as n from followup_plans where customer_id = $1::uuid", [a.uuidString.lowercased()]) == 1)
            #expect(try env.count("select count(*) as n from customer_identities where customer_id = $1::uuid", [a.uuidString.lowercased()]) == 3)
            #expect(Self.code { try customers.merge(winner: a, loser: b, actor: "li", reason: nil) }?.0 == "not_found")

            // Unmerge puts everything back.
            #expect(try customers.unmerge(merge, actor: "li") == b)
            #expect(try found("13900139000") == [b])
            #expect(try found("秘书") == [b])
            #expect(try customers.get(a)?.record.phones == ["+8613800138000"])
            #expect(try env.count("select count(*) as n from followup_plans where customer_id = $1::uuid", [b.uuidString.lowercased()]) == 1)
            #expect(try env.count("select count(*) as n from customer_identities where customer_id = $1::uuid", [b.uuidString.lowercased()]) == 2)
            #expect(Self.code { _ = try customers.unmerge(merge, actor: "li") }?.0 == "not_found")
        }
    }
}

/// A directory export into the prospect base: twice is once, bad lines are reported by line and skipped.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run prospect import tests"))
struct ProspectImportTests {
    @Test func importingTwiceIsOnceAndBadLinesAreNamed() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prospects-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("企查查导出.csv")
        try """
            企业名称,统一社会信用代码,法定代表人,注册资本,成立日期,所属行业,所属城市,电话,邮箱
            福州某某科技有限公司,91350100M000100Y43,陈明,500万元,2015-03-12,软件和信息技术服务业,福州,0591-8765 4321;13671234095,info@example.cn
            上海星辰贸易有限公司,,王芳,100万,2019/7/1,批发业,上海,13900001234,
            坏数据公司,91350100M000100Y44,,,,,,,
            张三个体户,,张三,,,零售业,杭州,13900001234,
            """.write(to: csv, atomically: true, encoding: .utf8)
        let mapping = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../connectors/prospects/directory.json").path
        let job = ProspectImport(path: csv.path, source: "qichacha", columns: try ProspectImport.mapping(path: mapping))
        let first = try job.run(db: db)
        #expect(first.rows == 4 && first.created == 2 && first.updated == 1)
        #expect(first.refused == ["invalid": 1])
        #expect(first.firstErrors == ["企查查导出.csv line 4: credit_code: 91350100M000100Y44 is not a unified social credit code (18 characters, check digit)"])
        // The phone 13900001234 is one prospect's: the fourth line updated the second's row.
        #expect(try env.count("select count(*)::int8 as n from prospects") == 2)
        let again = try job.run(db: db)
        #expect(again.created == 0 && again.updated == 3)
        #expect(try env.count("select count(*)::int8 as n from prospects") == 2)
        #expect(try env.count("select count(*)::int8 as n from prospect_phones") == 3)
        let found = try SearchEngine(db: db).search(SearchQuery(entity: .prospects, text: "chen ming", filters: ["founded": ["from": "2015-01-01", "to": "2016-01-01"]]))
        #expect(found.hits.map { $0.fields["credit_code"] } == ["91350100M000100Y43"])
        #expect(try SearchEngine(db: db).search(SearchQuery(entity: .prospects, text: "8765 4321")).hits.count == 1)
        #expect(try SearchEngine(db: db).search(SearchQuery(entity: .prospects, filters: ["capital": ["max": 2000000]])).hits.count == 1)
    }
}

/// Two imports at once cannot race a company or a phone into two prospects: the database's unique keys decide.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run prospect import tests"))
struct ProspectConcurrencyTests {
    @Test(.timeLimit(.minutes(3))) func concurrentUpsertsMakeOneProspectPerKey() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let people = (0..<40).map { n -> [String: JSONValue] in
            n % 2 == 0
                ? ["name": .string("公司\(n)"), "credit_code": .string(CustomerRecordsTests.creditCode(String(format: "91350100M%08d", n)))]
                : ["name": .string("个人\(n)"), "phones": [.string(String(format: "1367123%04d", n))]]
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                        Thread {
                            c.resume(with: Result {
                                let db = try env.db()
                                defer { db.close() }
                                for p in worker % 2 == 0 ? people : people.reversed() {
                                    try Prospects(db: db).upsert(try ProspectRecord(p), source: "w\(worker)")
                                }
                            })
                        }.start()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try env.count("select count(*)::int8 as n from prospects") == 40)
        #expect(try env.count("select count(*)::int8 as n from prospect_phones") == 20)
    }
}

extension CustomerRecordsTests {
    /// A valid unified social credit code from its first 17 characters.
    static func creditCode(_ first17: String) -> String {
        "0123456789ABCDEFGHJKLMNPQRTUWXY".lazy.compactMap { ProspectRecord.creditCode(first17 + String($0)) }.first!
    }

    @Test func levelsAreTheShopsOwn() throws {
        try Self.with { _, _, customers in
            #expect(Self.code { _ = try customers.add(["name": "张三", "level": "S"], actor: "t") }?.1 == "level")
            try customers.defineLevel(id: "S", name: "战略客户", rank: 0)
            guard case .created = try customers.add(["name": "张三", "level": "S"], actor: "t") else { Issue.record("S is a level now"); return }
            #expect(try customers.levels().map(\.id) == ["S", "A", "B", "C"])
        }
    }
}
