import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `rapport-bench`: the Swift half of `bench/ingest`.
///
/// Each subcommand does one step and prints its figures as `key=value` lines on stdout (for the script),
/// with progress on stderr.
struct RapportBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rapport-bench",
        abstract: "Ingest benchmark steps: publish web forms, wait for the ledger, compute latency and batch figures.",
        discussion: "Run `bench/ingest` for the whole benchmark; these are its building blocks.",
        subcommands: [Publish.self, Wait.self, Latency.self, Batches.self, Profile.self, Match.self, Resolve.self, Claims.self, SearchBench.self, VerifyBench.self, LookupBench.self])
}

/// Where the bench's broker and database are; defaults match `bench/ingest`.
struct BenchTargets: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "Broker URL (default: RAPPORT_AMQP_URL or the rapport-bench vhost).")
    var amqpURL: String = ProcessInfo.processInfo.environment["RAPPORT_AMQP_URL"]
        ?? "amqp://guest:guest@127.0.0.1:5672/rapport-bench"

    @Option(name: .customLong("pg-url"), help: "PostgreSQL URL (default: RAPPORT_PG_URL or the rapport_bench database).")
    var pgURL: String = ProcessInfo.processInfo.environment["RAPPORT_PG_URL"]
        ?? "postgresql://rapport:rapport@127.0.0.1:5432/rapport_bench"
}

/// Errors reported as one line and a non-zero exit.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Wall-clock seconds since the epoch, with microseconds (the clock PostgreSQL's `clock_timestamp()` reads).
func epochNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds of a `Duration`, as a `Double`.
func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// User plus system CPU seconds this process has used.
func processCPUSeconds() -> Double {
    var ru = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &ru)
    return Double(ru.ru_utime.tv_sec) + Double(ru.ru_utime.tv_usec) / 1e6
        + Double(ru.ru_stime.tv_sec) + Double(ru.ru_stime.tv_usec) / 1e6
}

/// Prints one `key=value` result line on stdout.
func emit(_ key: String, _ value: Any) {
    print("\(key)=\(value)")
}

/// A number with a fixed count of decimals, for output lines.
func fixed(_ value: Double, _ decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Writes a progress line on stderr, at most about once a second, with the rate since the previous line.
struct ProgressLine {
    let label: String
    let total: Int
    let start = ContinuousClock.now
    private var last = ContinuousClock.now
    private var lastDone = 0

    init(label: String, total: Int) {
        self.label = label
        self.total = total
    }

    mutating func update(_ done: Int, force: Bool = false) {
        let now = ContinuousClock.now
        guard force || now - self.last >= .seconds(1) else { return }
        let interval = seconds(now - self.last)
        let rate = interval > 0 ? Double(done - self.lastDone) / interval : 0
        self.last = now
        self.lastDone = done
        let line = String(format: "\r%@ %d/%d (%.0f/s now, %.1fs)  ", self.label, done, self.total, rate,
                          seconds(now - self.start))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
