import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportStore
import RapportSupport

/// The search engine on a large base: seeds customers (with contacts) and prospects from a
/// deterministic generator, then times each kind of query (p50, p95) and measures recall against what
/// the generator knows a person would expect. Read-only after seeding, so a seeded database is reused.
struct SearchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search latency per query kind (p50/p95), index size and recall on a seeded base.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "Customers to seed (30% companies with 2 contacts each).") var customers = 1_000_000
    @Option(help: "Prospects to seed.") var prospects = 1_000_000
    @Option(help: "Queries timed per kind.") var queries = 60
    @Flag(help: "Seed again even if the database holds the right counts.") var reseed = false

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let world = World(customers: self.customers, prospects: self.prospects)
        let have: Int = try db.query("select count(*)::int8 as n from customers").first!.decode("n")
        let haveP: Int = try db.query("select count(*)::int8 as n from prospects").first!.decode("n")
        if self.reseed || have != self.customers || haveP != self.prospects {
            try world.seed(db)
        } else {
            note("  reusing the seeded base: \(have) customers, \(haveP) prospects")
        }
        for (name, rel) in [("customers_tokens_idx", "customers"), ("prospects_tokens_idx", "prospects")] {
            let r = try db.query("select pg_relation_size($1::regclass)::int8 as i, pg_total_relation_size($2::regclass)::int8 as t", [name, rel]).first!
            let (i, t): (Int, Int) = (try r.decode("i"), try r.decode("t"))
            print("\(name)_mb=\(i >> 20) \(rel)_total_mb=\(t >> 20)")
        }
        try world.measure(db, perKind: self.queries)
    }
}

func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// The generated base: every record is a function of its index, so the expected answers are known
/// without reading the database.
struct World {
    let customers: Int
    let prospects: Int

    // Characters with one reading only, so the pinyin a person expects is unambiguous.
    static let surnames = Self.single("王李张刘陈杨黄赵吴周徐孙马胡朱郭何林罗高郑梁谢宋唐许邓冯韩程")
    static let given = Self.single("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉萍娥玲芬燕鹏辉斌宇浩凯健俊帆帅旭宁龙林欣晨瑶婷雪琳晶妍茜秋")
    static let cores = Self.single("信达通科创瑞恒泰鑫盛源博宏宇腾飞凯安邦德嘉锦隆海天星光远华中联新")
    static let industries = ["科技", "贸易", "软件", "医药", "物流", "教育", "咨询", "电子"]
    static let places: [(String, String)] = [("北京", "北京"), ("上海", "上海"), ("广东", "广州"), ("广东", "深圳"), ("浙江", "杭州"),
                                               ("江苏", "南京"), ("江苏", "苏州"), ("四川", "成都"), ("湖北", "武汉"), ("陕西", "西安"),
                                               ("天津", "天津"), ("重庆", "重庆"), ("山东", "济南"), ("山东", "青岛"), ("福建", "厦门"),
                                               ("湖南", "长沙"), ("河南", "郑州"), ("安徽", "合肥"), ("辽宁", "大连"), ("云南", "昆明")]
    static let latinFirst = ["John", "Mary", "David", "Sarah", "Michael", "Linda", "James", "Emma", "Robert", "Olivia"]
    static let latinLast = ["Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Anderson", "Thomas", "Jackson"]
    static let mobile = ["135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "186", "187", "188"]
    static let sizes = ["1-9人", "10-49人", "50-99人", "100-499人", "500人以上"]

    static func single(_ s: String) -> [(String, String)] {
        s.compactMap { c -> (String, String)? in
            let readings = Set(ChineseText.pinyinReadings(c.unicodeScalars.first!))
            return readings.count == 1 ? (String(c), readings.first!) : nil
        }
    }

    /// A small deterministic hash, so records spread over the lists without a random generator.
    static func h(_ i: Int, _ salt: Int) -> Int {
        var x = UInt64(truncatingIfNeeded: i) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: salt) &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        x ^= x >> 29
        return Int(x >> 1)
    }

    static func pick<T>(_ list: [T], _ i: Int, _ salt: Int) -> T { list[Self.h(i, salt) % list.count] }

    /// A person: Chinese (95%) or Latin; with the pinyin syllables of a Chinese name.
    static func person(_ i: Int, _ salt: Int) -> (name: String, syllables: [String]) {
        if Self.h(i, salt + 1) % 20 == 0 {
            return (Self.pick(Self.latinFirst, i, salt + 2) + " " + Self.pick(Self.latinLast, i, salt + 3), [])
        }
        let s = Self.pick(Self.surnames, i, salt + 2)
        var parts = [s, Self.pick(Self.given, i, salt + 3)]
        if Self.h(i, salt + 4) % 3 != 0 { parts.append(Self.pick(Self.given, i, salt + 5)) }
        return (parts.map(\.0).joined(), parts.map(\.1))
    }

    static func company(_ i: Int, _ salt: Int) -> (name: String, core: String, city: Int, industry: String) {
        let city = Self.h(i, salt + 6) % Self.places.count
        let core = Self.pick(Self.cores, i, salt + 7).0 + Self.pick(Self.cores, i, salt + 8).0
        let industry = Self.pick(Self.industries, i, salt + 9)
        return (Self.places[city].1 + core + industry + "有限公司", core, city, industry)
    }

    /// Distinct for distinct `n` (7919 is prime to 10^8).
    static func phone(_ n: Int) -> String {
        let d = (n &* 7919 &+ 12_345) % 100_000_000
        return "+86" + Self.mobile[n % Self.mobile.count] + String(format: "%08d", d)
    }

    static func id(_ kind: Int, _ i: Int) -> UUID {
        UUID(uuidString: String(format: "%08x-0000-4000-8000-%012x", kind, i))!
    }

    // MARK: Customers

    struct CustomerRow {
        var id: UUID
        var record: CustomerRecord
        var city: Int
        var contactSyllables: [[String]]
        var nameSyllables: [String]
        var core: String?
    }

    func customer(_ i: Int) -> CustomerRow {
        var r = CustomerRecord()
        let city = Self.h(i, 11) % Self.places.count
        var syllables: [String] = [], contacts: [[String]] = []
        var core: String?
        if Self.h(i, 12) % 10 < 3 {
            let c = Self.company(i, 20)
            r.kind = .company
            r.name = c.name
            r.industry = c.industry
            core = c.core
            for k in 0..<2 {
                let p = Self.person(i * 2 + k, 40)
                contacts.append(p.syllables)
                r.contacts.append(.init(name: p.name, title: k == 0 ? "经理" : nil, phones: [Self.phone(3_000_000 + i * 2 + k)], emails: [],
                                        primary: k == 0))
            }
            r.addresses = [.init(label: nil, province: Self.places[c.city].0, city: Self.places[c.city].1, district: nil, line: nil, primary: true)]
        } else {
            let p = Self.person(i, 30)
            r.name = p.name
            syllables = p.syllables
            if Self.h(i, 13) % 2 == 0 { r.company = Self.company(i, 50).name }
            r.addresses = [.init(label: nil, province: Self.places[city].0, city: Self.places[city].1, district: nil, line: nil, primary: true)]
            if Self.h(i, 14) % 4 == 0 { r.emails = ["user\(i)@example.cn"] }
        }
        r.phones = [Self.phone(i)]
        r.level = ["A", "B", "C", "C"][Self.h(i, 15) % 4]
        if r.industry == nil { r.industry = Self.pick(Self.industries, i, 16) }
        r.owner = "rep-\(Self.h(i, 17) % 50)"
        r.tags = Self.h(i, 18) % 5 == 0 ? ["重点"] : []
        return CustomerRow(id: Self.id(1, i), record: r, city: r.addresses.first.flatMap { a in Self.places.firstIndex { $0.1 == a.city } } ?? city,
                           contactSyllables: contacts, nameSyllables: syllables, core: core)
    }

    func prospect(_ i: Int) -> (id: UUID, record: ProspectRecord, core: String, city: Int, legal: [String]) {
        let c = Self.company(i, 70)
        var r = ProspectRecord()
        r.name = c.name
        let first17 = String(format: "91%06d%09d", 110_000 + Self.h(i, 71) % 700_000, i)
        r.creditCode = Self.creditCode(first17)
        let legal = Self.person(i, 80)
        r.legalRep = legal.name
        r.registeredCapital = Decimal(10_000 * (10 + Self.h(i, 72) % 10_000))
        r.foundedOn = String(format: "%04d-%02d-%02d", 1995 + Self.h(i, 73) % 30, 1 + Self.h(i, 74) % 12, 1 + Self.h(i, 75) % 28)
        r.industry = c.industry
        r.province = Self.places[c.city].0
        r.city = Self.places[c.city].1
        r.size = Self.pick(Self.sizes, i, 76)
        r.phones = [Self.phone(5_000_000 + i)]
        return (Self.id(2, i), r, c.core, c.city, legal.syllables)
    }

    /// Whether `needle` occurs in `hay` (bytes).
    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count else { return false }
        for start in 0...(hay.count - needle.count) where hay[start] == needle[0] {
            if hay[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    static func creditCode(_ first17: String) -> String {
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" {
            if let v = ProspectRecord.creditCode(first17 + String(c)) { return v }
        }
        fatalError("no check character for \(first17)")
    }

    /// A text[] literal: tokens are letters, digits, Han characters and `:`, so quoting is enough.
    static func arrayLiteral(_ tokens: [String]) -> String {
        "{" + tokens.map { "\"" + $0 + "\"" }.joined(separator: ",") + "}"
    }

    // MARK: Seeding

    func seed(_ db: PGConnection) throws {
        let start = ContinuousClock.now
        try db.execute("truncate customers, customer_contacts, customer_addresses, prospects, prospect_phones cascade")
        // Indexes are built once after the load: far faster than growing them row by row.
        try db.execute("drop index if exists customers_tokens_idx, prospects_tokens_idx")
        for r in 0..<50 { try db.query("insert into reps (id, name) values ($1, $1) on conflict do nothing", ["rep-\(r)"]) }
        let batch = 2000
        var i = 0
        while i < self.customers {
            let rows = (i..<min(self.customers, i + batch)).map(self.customer)
            var cols = [[String]](repeating: [], count: 16)
            var contacts = [[String]](repeating: [], count: 5)
            for (k, c) in rows.enumerated() {
                let r = c.record, doc = r.searchDocument, a = r.primaryAddress
                let n = i + k
                let values = [c.id.uuidString.lowercased(), r.kind.rawValue, r.name, r.phones.first ?? "", Self.arrayLiteral(r.phones),
                              Self.arrayLiteral(r.emails), r.company ?? "", r.level, r.industry ?? "", r.owner ?? "", Self.arrayLiteral(r.tags),
                              a?.province ?? "", a?.city ?? "", doc.text, Self.arrayLiteral(doc.tokens), "\(self.customers - n)"]
                for (j, v) in values.enumerated() { cols[j].append(v) }
                for (p, ct) in r.contacts.enumerated() {
                    contacts[0].append(c.id.uuidString.lowercased())
                    contacts[1].append(ct.name)
                    contacts[2].append(Self.arrayLiteral(ct.phones))
                    contacts[3].append(ct.primary ? "t" : "f")
                    contacts[4].append("\(p)")
                }
            }
            try db.query(
                """
                insert into customers (id, kind, name, phone, phones, emails, company, level, industry, owner, tags, province, city,
                                       search_text, search_tokens, created_at, updated_at)
                select id::uuid, kind, name, phone, phones::text[], emails::text[], nullif(company, ''), level, industry, owner,
                       tags::text[], province, city, st, tk::text[], now() - make_interval(secs => age::int), now() - make_interval(secs => age::int)
                from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
                     as x(id, kind, name, phone, phones, emails, company, level, industry, owner, tags, province, city, st, tk, age)
                """, cols)
            try db.query(
                """
                insert into customer_contacts (id, customer_id, name, phones, is_primary, position)
                select gen_random_uuid(), c::uuid, n, p::text[], pr::bool, o::int from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as x(c, n, p, pr, o)
                """, contacts)
            i += batch
            if i % 50_000 == 0 || i >= self.customers { note("  customers \(min(i, self.customers))/\(self.customers) (\(ContinuousClock.now - start))") }
        }
        i = 0
        while i < self.prospects {
            var cols = [[String]](repeating: [], count: 14)
            for n in i..<min(self.prospects, i + batch) {
                let p = self.prospect(n), r = p.record, doc = r.searchDocument
                let values = [p.id.uuidString.lowercased(), r.name, r.creditCode ?? "", r.legalRep ?? "", "\(r.registeredCapital ?? 0)",
                              r.foundedOn ?? "", r.industry ?? "", r.province ?? "", r.city ?? "", r.size ?? "", Self.arrayLiteral(r.phones),
                              doc.text, Self.arrayLiteral(doc.tokens), "\(self.prospects - n)"]
                for (j, v) in values.enumerated() { cols[j].append(v) }
            }
            try db.query(
                """
                with x as (select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                                                $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
                           as x(id, name, cc, lr, cap, f, ind, prov, city, size, phones, st, tk, age)),
                     p as (insert into prospects (id, name, credit_code, legal_rep, registered_capital, founded_on, industry, province, city, size,
                                                  phones, source, search_text, search_tokens, created_at, updated_at)
                           select id::uuid, name, cc, lr, cap::numeric, f::date, ind, prov, city, size, phones::text[], 'bench', st, tk::text[],
                                  now() - make_interval(secs => age::int), now() - make_interval(secs => age::int) from x returning id, phones)
                insert into prospect_phones (phone, prospect_id) select unnest(phones), id from p
                """, cols)
            i += batch
            if i % 50_000 == 0 || i >= self.prospects { note("  prospects \(min(i, self.prospects))/\(self.prospects) (\(ContinuousClock.now - start))") }
        }
        note("  building the token indexes…")
        try db.execute("set maintenance_work_mem = '1GB'")
        try db.execute("create index customers_tokens_idx on customers using gin (search_tokens)")
        try db.execute("create index prospects_tokens_idx on prospects using gin (search_tokens)")
        try db.execute("vacuum analyze customers")
        try db.execute("vacuum analyze customer_contacts")
        try db.execute("vacuum analyze prospects")
        print("seed_seconds=\(Int((ContinuousClock.now - start).components.seconds))")
    }

    // MARK: Measuring

    /// One kind of query: instances with the ids a person expects (nil: not a recall query).
    struct Kind {
        var name: String
        var queries: [(SearchQuery, Set<UUID>?)]
        /// Pages walked before the timed one (page 50 of a broad query: 49).
        var skipPages = 0
    }

    func measure(_ db: PGConnection, perKind: Int) throws {
        let engine = SearchEngine(db: db)
        note("  building the labelled queries…")
        let rows = (0..<self.customers).map(self.customer)
        func sample(_ salt: Int) -> [Int] { (0..<perKind).map { Self.h($0, salt) % self.customers } }
        let persons = rows.indices.filter { rows[$0].record.kind == .person && !rows[$0].nameSyllables.isEmpty }
        _ = persons

        var kinds: [Kind] = []
        // A full Chinese name: everyone of that name (and contacts of that name: their company).
        var byName: [String: [UUID]] = [:]
        for r in rows {
            byName[r.record.name, default: []].append(r.id)
            for c in r.record.contacts { byName[c.name, default: []].append(r.id) }
        }
        kinds.append(Kind(name: "name", queries: (0..<perKind).map { q in
            let name = rows[persons[Self.h(q, 101) % persons.count]].record.name
            return (SearchQuery(entity: .customers, text: name, limit: 20), Set(byName[name] ?? []))
        }))
        // Pinyin initials of a three-character name, with a city: everyone there whose name (or a contact's)
        // has those initials from one of its syllables on.
        func initials(_ s: [String]) -> [String] { (0..<s.count).map { String(s[$0...].compactMap(\.first)) } }
        let rowInitials = rows.map { r in ([r.nameSyllables] + r.contactSyllables).flatMap(initials) }
        let threes = persons.filter { rows[$0].nameSyllables.count == 3 }
        kinds.append(Kind(name: "initials_city", queries: (0..<perKind).map { q in
            let r = rows[threes[Self.h(q, 102) % threes.count]]
            let ini = initials(r.nameSyllables)[0]
            let ids = Set(rows.indices.filter { rows[$0].city == r.city && rowInitials[$0].contains { $0.hasPrefix(ini) } }.map { rows[$0].id })
            return (SearchQuery(entity: .customers, text: ini, filters: ["city": .string(Self.places[r.city].1)], limit: 200), ids)
        }))
        // Seven consecutive digits of a phone: whoever holds a phone with them.
        let digits = rows.map { r in Array((r.record.phones + r.record.contacts.flatMap(\.phones)).joined(separator: "|").utf8) }
        kinds.append(Kind(name: "phone_fragment", queries: sample(103).map { i in
            let part = Array(String(rows[i].record.phones[0].dropFirst(5).prefix(7)).utf8)
            let ids = Set(rows.indices.filter { Self.contains(digits[$0], part) }.map { rows[$0].id })
            return (SearchQuery(entity: .customers, text: String(decoding: part, as: UTF8.self), limit: 20), ids)
        }))
        // A company's core name in its city: the companies, and the people working for one of that core.
        var byCityCore: [String: [UUID]] = [:]
        for (n, r) in rows.enumerated() {
            let core = r.core ?? (r.record.company != nil ? Self.company(n, 50).core : nil)
            if let core { byCityCore["\(r.city)/\(core)", default: []].append(r.id) }
        }
        let companies = rows.indices.filter { rows[$0].core != nil }
        kinds.append(Kind(name: "company_city", queries: (0..<perKind).map { q in
            let r = rows[companies[Self.h(q, 104) % companies.count]]
            return (SearchQuery(entity: .customers, text: r.core!, filters: ["city": .string(Self.places[r.city].1)], limit: 200),
                    Set(byCityCore["\(r.city)/\(r.core!)"] ?? []))
        }))
        // A Latin name with two letters swapped: every customer of that name.
        let latin = rows.filter { $0.record.kind == .person && $0.nameSyllables.isEmpty }
        kinds.append(Kind(name: "latin_typo", queries: (0..<perKind).map { q in
            let name = latin[Self.h(q, 105) % latin.count].record.name
            let parts = name.split(separator: " ").map(String.init)
            var last = Array(parts[1])
            last.swapAt(1, 2)
            return (SearchQuery(entity: .customers, text: parts[0] + " " + String(last), limit: 200), Set(byName[name] ?? []))
        }))
        // Filters only: level, city and industry, first page.
        kinds.append(Kind(name: "filters_only", queries: (0..<perKind).map { q in
            (SearchQuery(entity: .customers, filters: ["level": "A", "city": .string(Self.places[q % Self.places.count].1),
                                                       "industry": .string(Self.industries[q % Self.industries.count])], limit: 20), nil)
        }))
        // Page 50 of a broad query (a given-name character: thousands of customers).
        kinds.append(Kind(name: "page50_broad", queries: (0..<max(5, perKind / 6)).map { q in
            (SearchQuery(entity: .customers, text: Self.given[q % Self.given.count].0, limit: 20), nil)
        }, skipPages: 49))
        // Prospects: core name + city, legal representative + city, capital and founding ranges with a city.
        let prospects = (0..<self.prospects).map(self.prospect)
        var pByCore: [String: [UUID]] = [:], pByRep: [String: [UUID]] = [:]
        for p in prospects {
            pByCore["\(p.city)/\(p.core)", default: []].append(p.id)
            pByRep["\(p.city)/\(p.record.legalRep!)", default: []].append(p.id)
        }
        kinds.append(Kind(name: "prospect_company_city", queries: (0..<perKind).map { q in
            let p = prospects[Self.h(q, 106) % prospects.count]
            return (SearchQuery(entity: .prospects, text: p.core, filters: ["city": .string(Self.places[p.city].1)], limit: 200),
                    Set(pByCore["\(p.city)/\(p.core)"] ?? []))
        }))
        kinds.append(Kind(name: "prospect_legal_rep", queries: (0..<perKind).map { q in
            let p = prospects[Self.h(q, 107) % prospects.count]
            return (SearchQuery(entity: .prospects, text: p.record.legalRep!, filters: ["city": .string(Self.places[p.city].1)], limit: 200),
                    Set(pByRep["\(p.city)/\(p.record.legalRep!)"] ?? []))
        }))
        kinds.append(Kind(name: "prospect_filters", queries: (0..<perKind).map { q in
            (SearchQuery(entity: .prospects, filters: ["city": .string(Self.places[q % Self.places.count].1),
                                                       "capital": ["min": 10_000_000, "max": 50_000_000], "founded": ["from": "2010-01-01"]],
                         limit: 20), nil)
        }))
        note("  timing \(kinds.count) kinds × \(perKind) queries…")

        var found = 0, expected = 0
        for kind in kinds {
            var times: [Double] = []
            var kindFound = 0, kindExpected = 0
            for (query, ids) in kind.queries {
                var q = query
                for _ in 0..<kind.skipPages {
                    guard let next = try engine.search(q).next else { break }
                    q.after = next
                }
                let t0 = ContinuousClock.now
                var page = try engine.search(q)
                times.append(Double((ContinuousClock.now - t0).components.attoseconds) / 1e15 + Double((ContinuousClock.now - t0).components.seconds) * 1000)
                if let ids {
                    // Recall: every page, so a wide answer is read in full.
                    var got = Set(page.hits.map(\.id))
                    while let next = page.next, got.count < 50_000 {
                        q.after = next
                        page = try engine.search(q)
                        got.formUnion(page.hits.map(\.id))
                    }
                    kindFound += ids.intersection(got).count
                    kindExpected += ids.count
                    if ids.intersection(got).count < ids.count {
                        let missing = ids.subtracting(got)
                        note("  \(kind.name) \"\(query.text ?? "")\" \(query.filters.jsonValueText): missed \(missing.count) of \(ids.count), e.g. \(missing.first!.uuidString.lowercased())")
                    }
                }
            }
            found += kindFound
            expected += kindExpected
            let sorted = times.sorted()
            func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            let recall = kindExpected == 0 ? "" : String(format: " %@_recall=%.4f (%d/%d)", kind.name, Double(kindFound) / Double(kindExpected), kindFound, kindExpected)
            print(String(format: "%@_p50_ms=%.1f %@_p95_ms=%.1f %@_max_ms=%.1f", kind.name, pct(0.5), kind.name, pct(0.95), kind.name, sorted.last ?? 0) + recall)
        }
        print(String(format: "recall=%.4f (%d of %d expected records)", expected == 0 ? 1 : Double(found) / Double(expected), found, expected))
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    var jsonValueText: String { JSONValue.object(self).jsonString }
}
