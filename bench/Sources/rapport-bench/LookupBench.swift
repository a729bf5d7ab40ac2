import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportStore
import RapportSupport

/// Exact lookups per second through a blind index against a plaintext one, on the same database in the
/// same run: N phone keys stored both ways, then lookups of stored keys one per query (a record's
/// identity check) and in batches (an ingest batch's), rounds alternating. The blind side pays the HMAC
/// per key and the longer key; the plaintext side is the baseline.
struct LookupBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "Exact lookups/s through blind indexes against plaintext ones; prints lookup_ratio_blind_over_plain.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "Keys stored in each index.") var stored = 200_000
    @Option(help: "Lookups per round and side.") var lookups = 20_000
    @Option(help: "Keys per query in the batched runs.") var batch = 500
    @Option(help: "Rounds (sides alternate).") var rounds = 3

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let index = BlindIndex(key: RandomBytes.make(32), digest: .sha256, version: 1)
        let phone = { (i: Int) in IdentityKey.phone("+86" + String(13_000_000_000 + i)) }
        for side in ["plain", "blind"] {
            try db.execute("drop table if exists bench_lookup_\(side)")
            try db.execute("create unlogged table bench_lookup_\(side) (key text primary key, lead_id uuid not null)")
        }
        for from in stride(from: 0, to: self.stored, by: 50_000) {
            let keys = (from..<min(from + 50_000, self.stored)).map(phone)
            let ids = keys.map { _ in UUID().uuidString.lowercased() }
            try db.query("insert into bench_lookup_plain select * from unnest($1::text[], $2::uuid[])", [keys, ids])
            try db.query("insert into bench_lookup_blind select * from unnest($1::text[], $2::uuid[])", [index(keys), ids])
            FileHandle.standardError.write(Data("  stored \(min(from + 50_000, self.stored))/\(self.stored) keys per side\n".utf8))
        }
        try db.execute("analyze bench_lookup_plain; analyze bench_lookup_blind")

        var rng = SplitMix64(seed: 7)
        let probes = (0..<self.lookups).map { _ in phone(Int(rng.next() % UInt64(self.stored))) }
        func one(_ side: String) throws -> Double {
            let t0 = Date()
            var found = 0
            for k in probes {
                let key = side == "blind" ? index(k) : k
                found += try db.query("select lead_id from bench_lookup_\(side) where key = $1", [key]).count
            }
            guard found == probes.count else { throw BenchError("\(side): found \(found) of \(probes.count)") }
            return Double(probes.count) / Date().timeIntervalSince(t0)
        }
        func batched(_ side: String) throws -> Double {
            let t0 = Date()
            var found = 0
            for from in stride(from: 0, to: probes.count, by: self.batch) {
                let keys = Array(probes[from..<min(from + self.batch, probes.count)])
                found += try db.query("select i.lead_id from unnest($1::text[]) as k(key) join bench_lookup_\(side) i on i.key = k.key",
                                      [side == "blind" ? index(keys) : keys]).count
            }
            guard found == probes.count else { throw BenchError("\(side): found \(found) of \(probes.count)") }
            return Double(probes.count) / Date().timeIntervalSince(t0)
        }
        var rates: [String: [Double]] = [:]
        for r in 1...self.rounds {
            for side in ["plain", "blind"] {
                rates["\(side)_single", default: []].append(try one(side))
                rates["\(side)_batched", default: []].append(try batched(side))
            }
            FileHandle.standardError.write(Data("  round \(r)/\(self.rounds) done\n".utf8))
        }
        let c0 = processCPUSeconds()
        for k in probes { _ = index(k) }
        let hmacUs = (processCPUSeconds() - c0) / Double(probes.count) * 1e6
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        emit("stored_keys", self.stored)
        for kind in ["single", "batched"] {
            let plain = median(rates["plain_\(kind)"]!), blind = median(rates["blind_\(kind)"]!)
            emit("lookups_per_s_plain_\(kind)", fixed(plain, 0))
            emit("lookups_per_s_blind_\(kind)", fixed(blind, 0))
            emit("lookup_ratio_blind_over_plain_\(kind)", fixed(blind / plain, 3))
        }
        emit("hmac_cpu_us_per_key", fixed(hmacUs, 2))
        for side in ["plain", "blind"] { try db.execute("drop table bench_lookup_\(side)") }
    }
}
