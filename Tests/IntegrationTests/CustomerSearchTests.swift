import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportStore
import RapportTesting

/// Every kind of search on the real database: Chinese fragments, pinyin, initials, traditional forms,
/// phone fragments, email parts, Latin typos, filters, sort, keyset pages, saved searches, and the
/// plan (the token index is what answers).
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run search integration tests"))
struct CustomerSearchTests {
    static let people: [[String: JSONValue]] = [
        ["name": "张伟", "phones": ["138 0013 8000"], "level": "A", "owner": "li", "tags": ["vip"],
         "addresses": [["province": "北京", "city": "北京", "district": "海淀区"]]],
        ["name": "王伟", "phones": ["139 1111 2222"], "emails": ["wang.wei@example.cn"], "owner": "han",
         "addresses": [["province": "上海", "city": "上海"]]],
        ["kind": "company", "name": "北京华信科技有限公司", "industry": "软件", "owner": "li",
         "contacts": [["name": "章小蕙", "phones": ["137 2222 3333"]]], "addresses": [["province": "北京", "city": "北京"]]],
        ["name": "John Smith", "emails": ["john.smith@acme.com"], "industry": "制造"],
        ["name": "歐陽娜娜", "phones": ["+86 136 5555 6666"], "custom": ["tier": "gold"]],
    ]

    static func with(_ body: (TestEnvironment, PGConnection, [UUID]) throws -> Void) throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let pool = LeadPool(db: db)
        try pool.upsertTeam(id: "north", name: "North", assignment: .roundRobin)
        try pool.upsertRep(id: "li", name: "李雷", team: "north", active: true, capacity: 10)
        try pool.upsertRep(id: "han", name: "韩梅梅", team: nil, active: true, capacity: 10)
        let customers = Customers(db: db, keyring: env.keyring)
        try customers.defineField(try CustomFieldDefinition(key: "tier", label: "Tier", kind: .option, options: ["gold", "silver"]))
        var ids: [UUID] = []
        for p in Self.people {
            guard case .created(let id, _) = try customers.add(p, actor: "test") else { throw CustomerError(.invalid, "seed matched") }
            ids.append(id)
        }
        try body(env, db, ids)
    }

    static func find(_ db: PGConnection, _ text: String?, _ filters: [String: JSONValue] = [:]) throws -> Set<UUID> {
        Set(try SearchEngine(db: db).search(SearchQuery(entity: .customers, text: text, filters: filters, limit: 50)).hits.map(\.id))
    }

    @Test func everyTextKindFindsWhomAPersonExpects() throws {
        try Self.with { _, db, ids in
            let (zhang, wang, huaxin, john, ouyang) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            let expected: [(String, Set<UUID>)] = [
                ("伟", [zhang, wang]), ("张伟", [zhang]), ("張偉", [zhang]), ("华信", [huaxin]), ("華信科技", [huaxin]),
                ("zhangwei", [zhang]), ("zw", [zhang]), ("ww", [wang]), ("hx", [huaxin]), ("huaxin", [huaxin]),
                ("章小蕙", [huaxin]), ("zxh", [huaxin]), ("0013", [zhang]), ("138-0013-8000", [zhang]), ("+86 136 5555", [ouyang]),
                ("3333", [huaxin]), ("wang.wei", [wang]), ("acme", [john]), ("smith", [john]), ("jonh", [john]), ("smtih", [john]),
                ("欧阳", [ouyang]), ("oyn", [ouyang]), ("ouyangnana", [ouyang]), ("nana", [ouyang]), ("海淀", [zhang]),
                ("李娜", []), ("1390 0000", []),
            ]
            for (q, want) in expected {
                #expect(try Self.find(db, q) == want, "\(q)")
            }
            // Results say why they matched.
            let hit = try #require(try SearchEngine(db: db).search(SearchQuery(entity: .customers, text: "zxh")).hits.first)
            #expect(hit.reasons.map(\.description) == ["contact 章小蕙 (initials \"zxh\")"])
            #expect(hit.fields["name"] == "北京华信科技有限公司")
        }
    }

    @Test func filtersAloneAndWithText() throws {
        try Self.with { env, db, ids in
            let (zhang, wang, huaxin, john, ouyang) = (ids[0], ids[1], ids[2], ids[3], ids[4])
            #expect(try Self.find(db, nil, ["city": "北京"]) == [zhang, huaxin])
            #expect(try Self.find(db, "伟", ["city": "北京"]) == [zhang])
            #expect(try Self.find(db, nil, ["owner": "li"]) == [zhang, huaxin])
            #expect(try Self.find(db, nil, ["team": "north"]) == [zhang, huaxin])
            #expect(try Self.find(db, nil, ["level": ["A", "B"]]) == [zhang])
            #expect(try Self.find(db, nil, ["industry": "软件"]) == [huaxin])
            #expect(try Self.find(db, nil, ["tags": ["vip"]]) == [zhang])
            #expect(try Self.find(db, nil, ["kind": "company"]) == [huaxin])
            #expect(try Self.find(db, nil, ["custom": ["tier": "gold"]]) == [ouyang])
            #expect(try Self.find(db, nil, ["created": ["from": "2000-01-01", "to": "2999-01-01"]]).count == 5)
            #expect(try Self.find(db, nil, ["created": ["to": "2000-01-01"]]).isEmpty)
            try db.query("update customers set last_followup_at = now() - interval '40 days' where id = $1::uuid", [john.uuidString.lowercased()])
            #expect(try Self.find(db, nil, ["last_followup": ["to": .string(ISO8601.string(Date().addingTimeInterval(-30 * 86400)))]]) == [john])
            try db.query("insert into opportunities (id, customer_id, name, owner, stage, amount) values (gen_random_uuid(), $1::uuid, 'x', 'han', 'qualify', 1)",
                         [wang.uuidString.lowercased()])
            #expect(try Self.find(db, nil, ["open_opportunity": true]) == [wang])
            #expect(try Self.find(db, nil, ["open_opportunity": false]).count == 4)
            try CustomerPool(db: db).add([john], reason: "no owner", actor: "t")
            #expect(try Self.find(db, nil, ["public_pool": true]) == [john])
            // Bad filters are refused by name.
            for (filters, field) in [(["colour": "red"], "filters.colour"), (["created": ["from": "yesterday"]], "filters.created.from"),
                                     (["public_pool": "yes"], "filters.public_pool")] as [([String: JSONValue], String)] {
                do {
                    _ = try Self.find(db, nil, filters)
                    Issue.record("\(filters) must be refused")
                } catch let e as CustomerError {
                    #expect(e.field == field)
                }
            }
            _ = env
        }
    }

    @Test func keysetPagesCoverEverythingOnceInEitherSort() throws {
        try Self.with { env, db, _ in
            let customers = Customers(db: db, keyring: env.keyring)
            var all = Set<UUID>()
            for n in 0..<23 {
                guard case .created(let id, _) = try customers.add(["name": .string("客户\(n)号"), "phones": [.string("1350000\(String(format: "%04d", n))")]], actor: "t") else { return }
                all.insert(id)
            }
            for sort in ["created", "name", "updated"] {
                var seen: [UUID] = []
                var after: String?
                var pages = 0
                repeat {
                    let page = try SearchEngine(db: db).search(SearchQuery(entity: .customers, text: "客户", sort: sort, limit: 10, after: after))
                    seen += page.hits.map(\.id)
                    after = page.next
                    pages += 1
                } while after != nil && pages < 10
                #expect(pages == 3, "\(sort)")
                #expect(seen.count == 23 && Set(seen) == all, "\(sort)")
                if sort == "name" {
                    let names = try seen.map { try customers.get($0)!.record.name }
                    #expect(names == names.sorted())
                }
            }
        }
    }

    @Test func savedSearchesRunAgainForTheirRep() throws {
        try Self.with { _, db, ids in
            let engine = SearchEngine(db: db)
            try engine.save(SearchQuery(entity: .customers, text: "伟", filters: ["city": "北京"]), rep: "li", name: "北京的伟")
            #expect(try engine.saved(rep: "li").map(\.name) == ["北京的伟"])
            #expect(try engine.search(try engine.saved(rep: "li", name: "北京的伟")).hits.map(\.id) == [ids[0]])
            #expect(throws: CustomerError.self) { try engine.saved(rep: "han", name: "北京的伟") }
        }
    }

    /// The token index answers a text search, not a scan of the table.
    @Test func theTokenIndexIsUsed() throws {
        try Self.with { _, db, _ in
            // Enough rows for the planner to prefer an index: synthetic tokens, one rare.
            try db.query(
                """
                insert into customers (id, name, search_text, search_tokens)
                select gen_random_uuid(), 'n' || i, '', array['h:客', 'd:' || lpad(i::text, 4, '0'), 'w:n' || (i % 50)]
                from generate_series(1, 20000) i
                """)
            try db.execute("analyze customers")
            for text in ["0042", "张伟"] {
                let (sql, params) = try SearchEngine(db: db).sql(SearchQuery(entity: .customers, text: text), limit: 21)
                let plan = try db.query("explain " + sql, params).map { $0["QUERY PLAN"] ?? "" }.joined(separator: "\n")
                #expect(plan.contains("customers_tokens_idx"), "\(text):\n\(plan)")
                #expect(!plan.contains("Seq Scan on customers"), "\(text):\n\(plan)")
            }
        }
    }
}

/// Leads are searched with the same engine once the indexer has tokenized them, and again after a change.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run search integration tests"))
struct LeadSearchTests {
    @Test func theIndexerKeepsLeadsSearchable() throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let ids = [UUID(), UUID()]
        try db.query(
            """
            insert into leads (id, name, phone, company, source, channel, first_seen_at, last_seen_at)
            values ($1::uuid, '欧阳娜娜', '+8613671234095', '上海星辰贸易有限公司', 't', 'webform', now(), now()),
                   ($2::uuid, 'Peter Wong', '+8613900001111', null, 't', 'ads', now(), now())
            """, ids.map { $0.uuidString.lowercased() })
        func find(_ text: String, _ filters: [String: JSONValue] = [:]) throws -> [UUID] {
            try SearchEngine(db: db).search(SearchQuery(entity: .leads, text: text, filters: filters)).hits.map(\.id)
        }
        #expect(try find("oyn").isEmpty)  // not indexed yet
        #expect(try LeadSearchIndex(db: db).refresh() == 2)
        #expect(try LeadSearchIndex(db: db).refresh() == 0)
        #expect(try find("oyn") == [ids[0]])
        #expect(try find("星辰") == [ids[0]])
        #expect(try find("1234 095") == [ids[0]])
        #expect(try find("petre") == [ids[1]])
        #expect(try find("wong", ["channel": "ads"]) == [ids[1]])
        #expect(try find("wong", ["channel": "webform"]).isEmpty)
        // A change marks the lead stale; the next run finds it by its new name.
        try db.query("update leads set name = '欧阳倩' where id = $1::uuid", [ids[0].uuidString.lowercased()])
        #expect(try LeadSearchIndex(db: db).refresh() == 1)
        #expect(try find("oyq") == [ids[0]])
        #expect(try find("oyn").isEmpty)
        // Touching something else does not.
        try db.query("update leads set touch_count = touch_count + 1 where id = $1::uuid", [ids[0].uuidString.lowercased()])
        #expect(try LeadSearchIndex(db: db).refresh() == 0)
    }
}
