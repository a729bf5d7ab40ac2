import ArgumentParser
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport

#if canImport(Glibc)
import Glibc
#endif

/// Publishes bench web forms to `rapport.inbound` with publisher confirms, as fast as possible or paced.
///
/// Confirms are pipelined over two channels: while one half-window waits for its confirms, the other is
/// being published, so at most `--window` messages are unconfirmed and the publisher never idles on a
/// round trip.
struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish N web forms with confirms; prints first_publish_epoch, publish_rate and more.")

    @OptionGroup var targets: BenchTargets
    @Option(help: "How many messages.") var count = 200_000
    @Option(help: "Offered load in messages per second (paced by the clock); as fast as possible when absent.")
    var rate: Double?
    @Option(name: .customLong("run"), help: "Run id: message ids are <run>-<k>.") var runID = "bench"
    @Option(help: "Number of the first person (keeps phones of different runs apart).") var firstPerson = 0
    @Option(help: "Share of messages that repeat an earlier person (0…1).") var duplicates = 0.1
    @Option(help: "Body size in bytes.") var bodyBytes = 600
    @Option(help: "Most unconfirmed messages at once.") var window = 500
    @Option(help: "Exchange to publish to.") var exchange = "rapport.inbound"
    @Option(help: "Publish as this registered source: routing key inbound.webform.<source>, user_id and app_id set.")
    var asSource: String?
    @Option(help: "Sign each message (after its time stamp is written) with this Ed25519 key file (hex seed).") var signKey: String?
    @Option(help: "The registered key id of --sign-key.") var keyID: String?
    @Flag(help: "Sign every message before the clock starts, as an upstream on its own machine would (bodies keep the preparation time).")
    var presign = false

    func validate() throws {
        guard self.count > 0 else { throw ValidationError("--count must be positive") }
        guard self.window >= 2 else { throw ValidationError("--window must be at least 2") }
        if let r = self.rate, r <= 0 { throw ValidationError("--rate must be positive") }
        guard (0...1).contains(self.duplicates) else { throw ValidationError("--duplicates is a share between 0 and 1") }
    }

    func run() throws {
        var messages = BenchTraffic.make(count: self.count, run: self.runID, firstPerson: self.firstPerson,
                                         duplicateFraction: self.duplicates, bodyBytes: self.bodyBytes)
        let meanBody = Double(messages.reduce(0) { $0 + $1.body.count }) / Double(messages.count)

        var configuration = try AMQPConnection.Configuration(url: self.targets.amqpURL)
        configuration.connectionName = "rapport-bench-publish"
        let conn = try AMQPConnection(configuration: configuration)
        defer { conn.close() }
        try conn.openChannel(2)
        try conn.enableConfirms(channel: 1)
        try conn.enableConfirms(channel: 2)

        let half = max(1, self.window / 2)
        var channel: UInt16 = 1
        var inChunk = 0
        var nacked = 0
        var returned = 0
        var firstReturn: String?
        var lag = 0.0  // worst lateness behind the paced schedule, seconds
        func settle(_ r: AMQPConfirmResult) {
            nacked += r.nacked.count
            returned += r.returned.count
            if firstReturn == nil, let m = r.returned.first { firstReturn = "\(m.replyCode) \(m.replyText) \(m.routingKey)" }
        }

        var signer: Signer?
        if let path = self.signKey {
            guard self.asSource != nil, self.keyID != nil else { throw BenchError("--sign-key needs --as-source and --key-id") }
            signer = try Signer.load(path: path, create: false).signer
        }
        var signCPU = 0.0
        func sign(_ k: Int, routingKey: String, at now: Double) -> AMQPTable {
            guard let signer, let source = self.asSource, let keyID = self.keyID else { return [:] }
            let t0 = processCPUSeconds()
            let millis = Int64(now * 1000)
            let signed = MessageSignature.Signed(keyID: keyID, source: source, exchange: self.exchange, routingKey: routingKey,
                                                 messageID: messages[k].messageID, signedAtMillis: millis, contentType: "application/json",
                                                 body: messages[k].body)
            let signature = MessageSignature.sign(signed, with: signer) ?? ""
            signCPU += processCPUSeconds() - t0
            return [MessageSignature.signatureHeader: .string(signature),
                    MessageSignature.keyIDHeader: .string(keyID), MessageSignature.signedAtHeader: .int(millis)]
        }
        let routingKeyOverride = self.asSource.map { "inbound.webform.\($0)" }
        var presigned: [AMQPTable] = []
        if self.presign && signer != nil {
            let t = epochNow()
            for k in 0..<self.count {
                BenchTraffic.stamp(t, into: &messages[k].body, at: messages[k].stampOffset)
                presigned.append(sign(k, routingKey: routingKeyOverride ?? messages[k].routingKey, at: t))
            }
        }
        let cpu0 = processCPUSeconds()
        var progress = ProgressLine(label: self.rate == nil ? "publishing" : "publishing at \(Int(self.rate!))/s",
                                    total: self.count)
        let start = ContinuousClock.now
        let firstEpoch = epochNow()
        for k in 0..<self.count {
            if let rate = self.rate {
                let due = start + .seconds(Double(k) / rate)
                let now = ContinuousClock.now
                if due > now {
                    Self.sleep(due - now)
                } else {
                    lag = max(lag, seconds(now - due))
                }
            }
            let now = k == 0 ? firstEpoch : epochNow()
            if presigned.isEmpty { BenchTraffic.stamp(now, into: &messages[k].body, at: messages[k].stampOffset) }
            let m = messages[k]
            var properties = AMQPProperties(contentType: "application/json", messageID: m.messageID, appID: m.appID,
                                            timestamp: Date(timeIntervalSince1970: now.rounded(.down)))
            let routingKey = routingKeyOverride ?? m.routingKey
            if let source = self.asSource {
                properties.userID = source
                properties.appID = source
            }
            if signer != nil { properties.headers = presigned.isEmpty ? sign(k, routingKey: routingKey, at: now) : presigned[k] }
            try conn.publish(exchange: self.exchange, routingKey: routingKey, body: m.body, properties: properties,
                             mandatory: true, channel: channel)
            messages[k].body = []  // free as we go
            inChunk += 1
            if inChunk == half {
                // Switch channels: first make sure the other channel's previous half-window is confirmed.
                let other: UInt16 = channel == 1 ? 2 : 1
                settle(try conn.waitForConfirms(timeout: .seconds(60), channel: other))
                channel = other
                inChunk = 0
                progress.update(k + 1)
            }
        }
        settle(try conn.waitForConfirms(timeout: .seconds(60), channel: 1))
        settle(try conn.waitForConfirms(timeout: .seconds(60), channel: 2))
        let elapsed = seconds(ContinuousClock.now - start)
        progress.update(self.count, force: true)
        progress.finish()

        emit("published", self.count)
        emit("mean_body_bytes", fixed(meanBody, 0))
        emit("first_publish_epoch", fixed(firstEpoch, 6))
        emit("publish_seconds", fixed(elapsed, 3))
        emit("publish_rate", fixed(Double(self.count) / elapsed, 0))
        if let rate = self.rate {
            emit("offered_rate", fixed(rate, 0))
            emit("max_lag_ms", fixed(lag * 1000, 1))
        }
        emit("publisher_cpu_seconds", fixed(processCPUSeconds() - cpu0, 2))
        if signer != nil { emit("sign_cpu_us_per_msg", fixed(signCPU / Double(self.count) * 1e6, 1)) }
        emit("nacked", nacked)
        emit("returned", returned)
        if nacked > 0 || returned > 0 {
            throw BenchError("broker did not take every message: \(nacked) nacked, \(returned) returned"
                + (firstReturn.map { " (first return: \($0))" } ?? ""))
        }
    }

    /// Sleeps for a short time; the kernel adds ~50–100 µs, which the pacing absorbs.
    static func sleep(_ d: Duration) {
        let (s, a) = d.components
        var ts = timespec(tv_sec: Int(s), tv_nsec: Int(a / 1_000_000_000))
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }
}
