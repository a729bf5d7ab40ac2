import ArgumentParser
import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportTesting

/// Time to resolve one record against a large store: seeds N people (leads with their identity and
/// blocking keys, as LeadStore writes them), then for each probe times ``LeadStore/plan(_:now:)``
/// (the decision: ledger check, candidate read, scoring) and then ``LeadStore/ingest(_:now:)`` (the whole
/// one-record transaction: lock, decision, writes, commit). Probes are re-submissions of stored people in
/// three disguises and new people.
struct Resolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Median and p99 time to resolve one record against N stored people (bench/resolve runs it).")

    @OptionGroup var targets: BenchTargets
    @Option(help: "People to store before probing.") var stored = 1_000_000
    @Option(help: "Probe records to resolve, one per transaction.") var probes = 2_000
    @Flag(help: "Probe an already seeded database (skip seeding).") var skipSeed = false
    @Flag(help: "Seed and stop (bench/ingest seeds its stored-base phase this way).") var seedOnly = false

    static let cities = [("上海市", "浦东新区"), ("北京市", "海淀区"), ("深圳市", "南山区"), ("广州市", "天河区"),
                         ("杭州市", "西湖区"), ("成都市", "武侯区"), ("南京市", "鼓楼区"), ("武汉市", "洪山区")]
    static let brands = ["星河", "远航", "云图", "青木", "华信", "恒通", "联创", "博远", "金桥", "瑞丰", "天成", "宏图",
                         "新锐", "汇智", "鼎盛", "国泰", "安达", "中科", "启明", "东方", "万达", "长城", "华夏", "九州", "神州", "正大", "世纪", "未来", "蓝海", "绿洲", "银河", "紫金",
                         "朝阳", "四海", "百川", "千禧", "宏达"]
    static let brands2 = ["达", "源", "创", "辰", "安", "泰", "和", "顺", "佳", "誉", "凯", "盛", "德", "信", "益", "隆", "昌",
                          "瑞", "宇", "嘉", "豪", "威", "迅", "捷", "通", "腾", "飞", "科", "华", "美", "中", "海", "港",
                          "星", "光", "明", "阳", "峰", "川", "林", "松"]
    static let trades = ["科技", "信息技术", "网络", "电子商务", "贸易", "咨询", "物流"]
    static let streets = ["世纪大道", "中关村大街", "科技园路", "天河路", "文三路", "人民南路", "中山路", "珞喻路"]

    /// Stored person `i`: names repeat as they do in real data (2,880 distinct, ~350 people each per
    /// million), phones and emails are unique, companies (about 60k) and streets are shared.
    static func person(_ i: Int) -> (name: String, phone: String, email: String?, company: String, address: String) {
        let name = DemoData.person(i, run: "").name
        let phone = "+86" + String(15_000_000_000 + i)
        let email: String? = i % 10 < 7 ? "p\(i)@corp\(i % 997).cn" : nil
        let (city, district) = Self.cities[i % Self.cities.count]
        // Two brand syllables from pools of 37 and 41 (prime to the name cycle), so a name recurs at a
        // company only after millions of people, as in real data; a same-name colleague is rare.
        let company = String(city.dropLast()) + Self.brands[i % 37] + Self.brands2[i % 41]
            + Self.trades[(i / 8) % Self.trades.count] + "有限公司"
        let address = city + district + Self.streets[i % Self.streets.count] + "\((i / 64) % 3000 + 1)号"
        return (name, phone, email, company, address)
    }

    /// The demo names' characters in traditional form (those that have one).
    static let traditionalForms: [Character: Character] = [
        "张": "張", "赵": "趙", "陈": "陳", "刘": "劉", "杨": "楊", "黄": "黃", "吴": "吳", "孙": "孫", "伟": "偉",
        "静": "靜", "艳": "艷", "杰": "傑", "军": "軍", "涛": "濤", "华": "華", "强": "強", "红": "紅", "飞": "飛",
        "丽": "麗", "兰": "蘭", "峰": "峯", "东": "東", "刚": "剛", "辉": "輝", "洋": "洋"]
    static func traditional(_ s: String) -> String { String(s.map { Self.traditionalForms[$0] ?? $0 }) }

    /// The workers' keyring (RAPPORT_KEK_FILE, unless RAPPORT_ENCRYPTION=false), so the seed's keys are
    /// blind as theirs are and the probes resolve as they would.
    static func keyring(_ db: PGConnection) throws -> Keyring? {
        let env = ProcessInfo.processInfo.environment
        guard env["RAPPORT_ENCRYPTION"] != "false", let file = env["RAPPORT_KEK_FILE"] else { return nil }
        let keyring = try Keyring(kekFile: file)
        try keyring.attach(db: db)
        return keyring
    }

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let keyring = try Self.keyring(db)
        if !self.skipSeed { try self.seed(db, index: try keyring?.blindIndex(db: db) ?? .plain) }
        if self.seedOnly { return }

        // Probes: a stored person with another phone format (exact key), the same person by email with
        // the name in traditional characters and no phone, the same person with a new phone (name,
        // company and address only), and people never seen.
        var rng = SplitMix64(seed: 42)
        var kinds: [String] = []
        var subs: [LeadSubmission] = []
        for k in 0..<self.probes {
            let j = Int(rng.next() % UInt64(self.stored))
            let p = Self.person(j)
            let id = "probe-\(UUID().uuidString.prefix(8))-\(k)"
            switch k % 4 {
            case 0:
                let d = Array(p.phone.dropFirst(3))
                subs.append(LeadSubmission(source: "probe", channel: "webform", messageID: id, name: p.name,
                                           phone: "+86" + String(d), company: p.company))
                kinds.append("same phone")
            case 1 where p.email != nil:
                subs.append(LeadSubmission(source: "probe", channel: "webform", messageID: id,
                                           name: Self.traditional(p.name), email: p.email, company: p.company))
                kinds.append("same email, traditional name")
            case 1, 2:
                subs.append(LeadSubmission(source: "probe", channel: "webform", messageID: id, name: p.name,
                                           phone: "+86" + String(17_000_000_000 + k), company: p.company, address: p.address))
                kinds.append("new phone, same name+company+address")
            default:
                let q = Self.person(self.stored + 1_000_000 + k)
                subs.append(LeadSubmission(source: "probe", channel: "webform", messageID: id, name: q.name,
                                           phone: "+86" + String(18_000_000_000 + k), email: q.email, company: q.company, address: q.address))
                kinds.append("new person")
            }
        }
        let cache = ProfileCache()
        var store = LeadStore(connection: db, profileCache: cache)
        store.keyring = keyring
        var times: [Double] = [], decideTimes: [Double] = []
        var outcomes: [String: [String: Int]] = [:]
        let clock = ContinuousClock()
        func ms(_ dt: Duration) -> Double { Double(dt.components.seconds) * 1000 + Double(dt.components.attoseconds) / 1e15 }
        for (k, s) in subs.enumerated() {
            // The decision alone (reads and scoring, nothing written), then the whole transaction.
            var t0 = clock.now
            _ = try store.plan([s])
            decideTimes.append(ms(clock.now - t0))
            t0 = clock.now
            let plan = try store.ingest([s])
            times.append(ms(clock.now - t0))
            let d = plan.decisions[0]
            let outcome = d.possibleDuplicateOf != nil ? "possible_duplicate" : d.outcome.rawValue
            outcomes[kinds[k], default: [:]][outcome, default: 0] += 1
            if k % 500 == 499 { FileHandle.standardError.write("  probes \(k + 1)/\(subs.count)\n".data(using: .utf8)!) }
        }
        func pct(_ xs: [Double], _ q: Double) -> String {
            let sorted = xs.sorted()
            return String(format: "%.3f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))])
        }
        print("stored=\(try db.query("select count(*)::int8 as n from leads where source = 'seed'").first!.decode("n") as Int)")
        print("lead_keys=\(try db.query("select count(*)::int8 as n from lead_keys").first!.decode("n") as Int)")
        print("probes=\(subs.count)")
        print("synchronous_commit=\(try db.query("show synchronous_commit").first?["synchronous_commit"] ?? "?")")
        for (label, xs) in [("decide", decideTimes), ("ingest", times)] {
            print("\(label)_p50_ms=\(pct(xs, 0.5))")
            print("\(label)_p90_ms=\(pct(xs, 0.9))")
            print("\(label)_p99_ms=\(pct(xs, 0.99))")
            print("\(label)_max_ms=\(String(format: "%.3f", xs.max() ?? 0))")
        }
        for (kind, o) in outcomes.sorted(by: { $0.key < $1.key }) {
            print("outcomes[\(kind)]=\(o.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))")
        }
    }

    /// Writes leads, identities and blocking keys in chunks, as LeadStore would for these people.
    func seed(_ db: PGConnection, index: BlindIndex) throws {
        let chunk = 20_000
        let start = Date()
        let t = "2026-11-01T00:00:00Z"
        for from in stride(from: 0, to: self.stored, by: chunk) {
            var ids: [String] = [], names: [String] = [], phones: [String] = [], emails: [String] = []
            var companies: [String] = [], addresses: [String] = []
            var identityKeys: [String] = [], identityLeads: [String] = [], blockKeys: [String] = [], blockLeads: [String] = []
            for i in from..<min(from + chunk, self.stored) {
                let p = Self.person(i)
                let id = UUID().uuidString.lowercased()
                ids.append(id); names.append(p.name); phones.append(p.phone); emails.append(p.email ?? "")
                companies.append(p.company); addresses.append(p.address)
                identityKeys.append(index(IdentityKey.phone(p.phone))); identityLeads.append(id)
                if let e = p.email { identityKeys.append(index(IdentityKey.email(e))); identityLeads.append(id) }
                let record = PersonRecord(id: id, name: p.name, phone: p.phone, email: p.email, company: p.company, address: p.address)
                for k in MatchProfile(record).blockingKeys {
                    blockKeys.append(index(k)); blockLeads.append(id)
                }
            }
            try db.transaction {
                try db.query(
                    """
                    insert into leads (id, name, phone, email, company, address, source, channel, first_seen_at, last_seen_at)
                    select id, n, p, nullif(e, ''), c, a, 'seed', 'import', $7::timestamptz, $7::timestamptz
                    from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as x(id, n, p, e, c, a)
                    """, [ids, names, phones, emails, companies, addresses, t])
                try db.query("insert into lead_identities (key, lead_id) select * from unnest($1::text[], $2::uuid[]) on conflict do nothing",
                             [identityKeys, identityLeads])
                try db.query("insert into lead_keys (key, lead_id) select * from unnest($1::text[], $2::uuid[]) on conflict do nothing",
                             [blockKeys, blockLeads])
            }
            let done = min(from + chunk, self.stored)
            let rate = Double(done) / max(Date().timeIntervalSince(start), 0.001)
            FileHandle.standardError.write(String(format: "  seeded %d/%d people (%.0f/s, ETA %.0f s)\n", done, self.stored, rate,
                                                  Double(self.stored - done) / rate).data(using: .utf8)!)
        }
        try db.execute("vacuum analyze")
        print("seed_seconds=\(String(format: "%.1f", Date().timeIntervalSince(start)))")
    }
}
