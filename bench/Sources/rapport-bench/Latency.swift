import ArgumentParser
import Foundation
import RapportPostgres

/// Publish-to-commit latency of a run: `inbound_ledger.processed_at - fields.bench_sent_at` per message.
struct Latency: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print p50/p90/p99/p99.9/max publish-to-commit latency (ms) of a run.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "Message-id prefix of the run (e.g. lat123-).") var prefix: String
    @Option(help: "Leave out messages sent in the first S seconds of the run (warm-up).") var skipSeconds = 0.0

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let rows = try db.query(
            """
            with m as (
                select (t.fields->>'bench_sent_at')::float8 as sent,
                       (extract(epoch from l.processed_at)::float8 - (t.fields->>'bench_sent_at')::float8) * 1000 as ms
                from inbound_ledger l
                join lead_touches t on t.source = l.source and t.message_id = l.message_id
                where left(l.message_id, length($1)) = $1 and t.fields ? 'bench_sent_at'),
            w as (select * from m where sent >= (select min(sent) from m) + $2::float8)
            select count(*)::int8 as n,
                   percentile_cont(0.5) within group (order by ms) as p50,
                   percentile_cont(0.9) within group (order by ms) as p90,
                   percentile_cont(0.99) within group (order by ms) as p99,
                   percentile_cont(0.999) within group (order by ms) as p999,
                   max(ms) as max, avg(ms) as mean, min(ms) as min
            from w
            """, [self.prefix, self.skipSeconds])
        guard let r = rows.first, let n: Int = try r.decodeIfPresent("n"), n > 0 else {
            throw BenchError("no ledger rows with bench_sent_at for prefix \(self.prefix)")
        }
        emit("latency_n", n)
        for key in ["min", "mean", "p50", "p90", "p99", "p999", "max"] {
            emit("latency_\(key)_ms", fixed(try r.decode(key, as: Double.self), 1))
        }
        // Latency over time, to spot a backlog building up: p99 per second of sending.
        let perSecond = try db.query(
            """
            with m as (
                select (t.fields->>'bench_sent_at')::float8 as sent,
                       (extract(epoch from l.processed_at)::float8 - (t.fields->>'bench_sent_at')::float8) * 1000 as ms
                from inbound_ledger l
                join lead_touches t on t.source = l.source and t.message_id = l.message_id
                where left(l.message_id, length($1)) = $1 and t.fields ? 'bench_sent_at')
            select floor(sent - (select min(sent) from m))::int8 as s, count(*)::int8 as n,
                   percentile_cont(0.5) within group (order by ms) as p50,
                   percentile_cont(0.99) within group (order by ms) as p99
            from m group by 1 order by 1
            """, [self.prefix])
        var line = ""
        for r in perSecond {
            let s: Int = try r.decode("s")
            line += "\(s):\(fixed(try r.decode("p50", as: Double.self), 0))/\(fixed(try r.decode("p99", as: Double.self), 0)) "
        }
        emit("latency_by_second_p50_p99_ms", line.trimmingCharacters(in: .whitespaces))
    }
}
