import ArgumentParser
import Foundation
import RapportAMQP
import RapportPostgres

#if canImport(Glibc)
import Glibc
#endif

/// Polls `inbound_ledger` until a run's messages are all committed, then reports end-to-end figures.
///
/// The end of the run is taken from the ledger itself: `max(processed_at)` (the clock at the end of the
/// last batch's writes, moments before its commit and ack), so the poll interval does not blur the figure.
///
/// Counting a large ledger costs the database tens of milliseconds, which would steal CPU from the worker
/// being measured, so while the inbound queue still has ready messages only the broker is asked (a passive
/// `queue.declare`, once a second); the ledger is counted once the queue has run dry.
struct Wait: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait until the ledger holds N messages of a run; prints e2e_seconds and e2e_rate.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "How many ledger rows to wait for.") var count: Int
    @Option(help: "Message-id prefix of the run (e.g. tp123-).") var prefix: String
    @Option(help: "Epoch seconds of the first publish; e2e time is measured from here.") var since: Double?
    @Option(help: "Give up after this many seconds.") var timeout = 600.0
    @Option(help: "Poll interval in seconds, once the queue is empty.") var interval = 0.25
    @Option(help: "Inbound queue the worker drains (polled on the broker while it has ready messages).")
    var queue = "rapport.inbound.webform"

    func run() throws {
        let db = try PGConnection(self.targets.pgURL)
        defer { db.close() }
        let countSQL = """
            select count(*)::int8 as n from inbound_ledger
            where left(message_id, length($1)) = $1 and received_at >= to_timestamp($2::float8)
            """
        let notBefore = (self.since ?? 0) - 60
        var broker: AMQPConnection?
        if var configuration = try? AMQPConnection.Configuration(url: self.targets.amqpURL) {
            configuration.connectionName = "rapport-bench-wait"
            broker = try? AMQPConnection(configuration: configuration)
        }
        defer { broker?.close() }
        var progress = ProgressLine(label: "committed", total: self.count)
        let start = ContinuousClock.now
        var n = 0
        var last = -1
        var lastChange = ContinuousClock.now
        while true {
            if let b = broker, let ready = try? b.declareQueue(self.queue, passive: true).messages, ready > 0 {
                FileHandle.standardError.write(Data(String(format: "\r%@ ready in the queue: %d (%.1fs)        ", self.queue,
                                                           ready, seconds(ContinuousClock.now - start)).utf8))
                if ContinuousClock.now - start > .seconds(self.timeout) {
                    throw BenchError("timed out after \(Int(self.timeout)) s with \(ready) messages still in \(self.queue)")
                }
                Publish.sleep(.seconds(1))
                continue
            }
            n = try db.query(countSQL, [self.prefix, notBefore]).first?.decode("n") ?? 0
            progress.update(n, force: true)
            if n >= self.count { break }
            let now = ContinuousClock.now
            if n != last {
                last = n
                lastChange = now
            }
            if now - start > .seconds(self.timeout) {
                progress.finish()
                emit("committed", n)
                throw BenchError("timed out after \(Int(self.timeout)) s with \(n) of \(self.count) committed "
                    + "(stalled for \(fixed(seconds(now - lastChange))) s); see the worker log")
            }
            Publish.sleep(.seconds(self.interval))
        }
        let observed = seconds(ContinuousClock.now - start)
        progress.update(n, force: true)
        progress.finish()

        let row = try db.query(
            """
            select extract(epoch from min(processed_at))::float8 as first, extract(epoch from max(processed_at))::float8 as last,
                   count(*)::int8 as n, count(*) filter (where outcome = 'created')::int8 as created,
                   count(*) filter (where outcome = 'merged')::int8 as merged
            from inbound_ledger where left(message_id, length($1)) = $1 and received_at >= to_timestamp($2::float8)
            """, [self.prefix, notBefore]).first
        let first: Double = try row?.decode("first") ?? 0
        let lastCommit: Double = try row?.decode("last") ?? 0
        emit("committed", n)
        emit("created", try row?.decode("created", as: Int.self) ?? 0)
        emit("merged", try row?.decode("merged", as: Int.self) ?? 0)
        emit("first_commit_epoch", fixed(first, 6))
        emit("last_commit_epoch", fixed(lastCommit, 6))
        emit("wait_seconds", fixed(observed, 3))
        if let since = self.since {
            let e2e = lastCommit - since
            emit("e2e_seconds", fixed(e2e, 3))
            emit("e2e_rate", fixed(Double(n) / e2e, 0))
        }
    }
}
