import ArgumentParser
import Foundation
import RapportPostgres

/// How the worker batched a run, read back from the ledger.
///
/// Every row of one transaction shares `received_at` (`now()`, the transaction start), while
/// `processed_at` (`clock_timestamp()`) is taken as each row is written at the end of the batch. So per
/// batch: size = rows, time in the transaction up to the last write = `max(processed_at) - received_at`.
/// The rest of the worker's time (receive, decode, ack, commit) lies between batches. Two consumers whose
/// transactions start in the same microsecond are counted as one batch; that is rare enough to ignore.
struct Batches: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print batch count, sizes and in-transaction time of a run (from ledger timestamps).")

    @OptionGroup var targets: BenchTargets
    @Option(help: "Message-id prefix of the run.") var prefix: String
    @Option(help: "Consumer threads that wrote the run (to compute how busy each was).") var consumers = 1

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let rows = try db.query(
            """
            with b as (
                select received_at, count(*) as n,
                       extract(epoch from max(processed_at) - received_at)::float8 * 1000 as txn_ms
                from inbound_ledger where left(message_id, length($1)) = $1 group by received_at)
            select count(*)::int8 as batches, avg(n)::float8 as mean_size,
                   percentile_cont(0.5) within group (order by n) as p50_size, max(n)::int8 as max_size,
                   avg(txn_ms)::float8 as mean_txn_ms,
                   percentile_cont(0.99) within group (order by txn_ms) as p99_txn_ms,
                   sum(txn_ms)::float8 / 1000 as txn_seconds,
                   (select extract(epoch from max(processed_at) - min(received_at))::float8 from inbound_ledger
                    where left(message_id, length($1)) = $1) as span_seconds
            from b
            """, [self.prefix])
        guard let r = rows.first, let batches: Int = try r.decodeIfPresent("batches"), batches > 0 else {
            throw BenchError("no ledger rows for prefix \(self.prefix)")
        }
        let txn: Double = try r.decode("txn_seconds")
        let span: Double = try r.decode("span_seconds")
        let meanTxn: Double = try r.decode("mean_txn_ms")
        let meanSize: Double = try r.decode("mean_size")
        emit("batches", batches)
        emit("batch_mean_size", fixed(meanSize, 1))
        emit("batch_p50_size", fixed(try r.decode("p50_size", as: Double.self), 0))
        emit("batch_max_size", try r.decode("max_size", as: Int.self))
        emit("batch_mean_txn_ms", fixed(meanTxn, 1))
        emit("batch_p99_txn_ms", fixed(try r.decode("p99_txn_ms", as: Double.self), 1))
        emit("batch_txn_us_per_msg", fixed(meanTxn * 1000 / meanSize, 1))
        emit("txn_seconds", fixed(txn, 2))
        emit("span_seconds", fixed(span, 2))
        // Share of each consumer's wall time spent inside BEGIN…last write; the rest is outside the database
        // transaction (AMQP receive, decode, commit round trip, ack, waiting for messages).
        emit("in_txn_share", fixed(span > 0 ? txn / (span * Double(max(1, self.consumers))) : 0, 2))
    }
}
