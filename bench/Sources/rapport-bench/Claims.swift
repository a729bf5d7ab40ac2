import ArgumentParser
import Foundation
import RapportPostgres
import Synchronization
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding

/// Lead-pool claims under contention: one claimer alone on its own pool (the same-run baseline), then
/// N claimers at once on one pool, each claiming batches until the pool is empty. Prints claims/s and
/// leads/s for both, and checks that no lead was claimed twice.
struct Claims: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Claims per second, one claimer vs N concurrent claimers on one pool.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "Leads in the contended pool.") var leads = 100_000
    @Option(help: "Leads in the single claimer's pool.") var soloLeads = 20_000
    @Option(help: "Concurrent claimers.") var claimers = 20
    @Option(help: "Leads per claim.") var perClaim = 10

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let big = 1_000_000_000
        try db.query(
            """
            insert into lead_pools (id, name, max_per_claim, max_per_day, max_held, reclaim_bar_days)
            values ('bench-solo', 'solo', $1, $2, $2, 0), ('bench-shared', 'shared', $1, $2, $2, 0) on conflict (id) do nothing
            """, [self.perClaim, big])
        for (pool, n) in [("bench-solo", self.soloLeads), ("bench-shared", self.leads)] {
            try db.query(
                """
                insert into leads (id, name, source, channel, first_seen_at, last_seen_at, pool_id)
                select gen_random_uuid(), 'bench ' || g, 'bench', 'import', now() - make_interval(secs => $1 - g), now(), $2
                from generate_series(1, $1) g
                """, [n, pool])
        }
        for r in 0..<max(self.claimers, 1) {
            try LeadPool(db: db).upsertRep(id: "bench-rep-\(r)", name: nil, team: nil, active: true, capacity: big)
        }
        try db.execute("vacuum analyze leads")
        FileHandle.standardError.write("  seeded \(self.soloLeads) + \(self.leads) leads, \(self.claimers) reps\n".data(using: .utf8)!)

        let solo = try self.phase(pool: "bench-solo", claimers: 1)
        let shared = try self.phase(pool: "bench-shared", claimers: self.claimers)
        let distinct: Int = try db.query(
            "select count(distinct lead_id)::int8 as n from lead_ownership where action = 'claim' and rep_id like 'bench-rep-%'").first!.decode("n")
        let total: Int = try db.query(
            "select count(*)::int8 as n from lead_ownership where action = 'claim' and rep_id like 'bench-rep-%'").first!.decode("n")
        print("solo_claims_per_s=\(String(format: "%.0f", solo.claims / solo.seconds))")
        print("solo_leads_per_s=\(String(format: "%.0f", solo.leads / solo.seconds))")
        print("shared_claimers=\(self.claimers)")
        print("shared_claims_per_s=\(String(format: "%.0f", shared.claims / shared.seconds))")
        print("shared_leads_per_s=\(String(format: "%.0f", shared.leads / shared.seconds))")
        print("shared_vs_solo=\(String(format: "%.2f", (shared.claims / shared.seconds) / (solo.claims / solo.seconds)))")
        print("claim_p50_ms=\(String(format: "%.2f", shared.p50)) claim_p99_ms=\(String(format: "%.2f", shared.p99))")
        print("claimed_rows=\(total) distinct_leads=\(distinct) doubles=\(total - distinct)")
    }

    struct PhaseResult { var claims: Double; var leads: Double; var seconds: Double; var p50: Double; var p99: Double }

    func phase(pool: String, claimers: Int) throws -> PhaseResult {
        let url = self.targets.pgURL
        let per = self.perClaim
        let stats = Mutex((claims: 0, leads: 0, times: [Double](), errors: [String]()))
        let go = DispatchSemaphore(value: 0), done = DispatchGroup()
        for r in 0..<claimers {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                do {
                    let conn = try PGConnection(url)
                    defer { conn.close() }
                    let pool_ = LeadPool(db: conn)
                    go.wait()
                    let clock = ContinuousClock()
                    while true {
                        let t0 = clock.now
                        let got = try pool_.claim(rep: "bench-rep-\(r)", count: per, pool: pool, actor: "bench").leads
                        let dt = clock.now - t0
                        if got.isEmpty { return }
                        let ms = Double(dt.components.attoseconds) / 1e15 + Double(dt.components.seconds) * 1000
                        stats.withLock { $0.claims += 1; $0.leads += got.count; $0.times.append(ms) }
                    }
                } catch {
                    stats.withLock { $0.errors.append("\(error)") }
                }
            }
        }
        let start = Date()
        for _ in 0..<claimers { go.signal() }
        done.wait()
        let seconds = Date().timeIntervalSince(start)
        let s = stats.withLock { $0 }
        if let e = s.errors.first { throw BenchError("a claimer failed: \(e)") }
        let sorted = s.times.sorted()
        func pct(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        FileHandle.standardError.write("  \(pool): \(claimers) claimer(s), \(s.claims) claims, \(s.leads) leads in \(String(format: "%.1f", seconds)) s\n".data(using: .utf8)!)
        return PhaseResult(claims: Double(s.claims), leads: Double(s.leads), seconds: seconds, p50: pct(0.5), p99: pct(0.99))
    }
}
