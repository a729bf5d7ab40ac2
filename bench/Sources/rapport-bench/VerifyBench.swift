import ArgumentParser
import Foundation
import RapportCore
import RapportDecoding
import RapportSupport

/// The CPU a worker spends admitting one signed message (`SourcePolicy.admit`: the body's SHA-256 and
/// the Ed25519 verification), in process, without broker or database: the part of a secured message's
/// cost that is Rapport's own.
struct VerifyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "CPU per message of checking a source's signature; prints verify_cpu_us_per_msg.")

    @Option(help: "How many messages.") var count = 20_000
    @Option(help: "Body size in bytes.") var bodyBytes = 600

    func run() throws {
        let key = Ed25519.PrivateKey()
        let policy = SourcePolicy(sources: [RegisteredSource(name: "site-bench", mustSign: true)],
                                  keys: [SigningKey(keyID: "k", source: "site-bench", publicKey: key.publicKey, validFrom: .distantPast)])
        let now = Date()
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        var envelopes: [InboundEnvelope] = []
        for k in 0..<self.count {
            let body = Array(("{\"name\":\"张伟\",\"phone\":\"1380013\(String(format: "%04d", k % 10_000))\",\"notes\":\""
                              + String(repeating: "x", count: max(0, self.bodyBytes - 60)) + "\"}").utf8)
            var e = InboundEnvelope(exchange: "rapport.inbound", routingKey: "inbound.webform.site-bench", messageID: "m-\(k)",
                                    appID: "site-bench", contentType: "application/json", body: body)
            e.userID = "site-bench"
            let signed = MessageSignature.Signed(keyID: "k", source: "site-bench", exchange: e.exchange, routingKey: e.routingKey,
                                                 messageID: "m-\(k)", signedAtMillis: millis, contentType: "application/json", body: body)
            e.securityHeaders = [MessageSignature.signatureHeader: MessageSignature.sign(signed, with: key) ?? "",
                                 MessageSignature.keyIDHeader: "k", MessageSignature.signedAtHeader: String(millis)]
            envelopes.append(e)
        }
        var plain = envelopes.map { e -> InboundEnvelope in var e = e; e.userID = nil; e.securityHeaders = [:]; return e }
        let open = SourcePolicy()
        let c0 = processCPUSeconds()
        var refused = 0
        for i in envelopes.indices {
            if case .failure = policy.admit(&envelopes[i], now: now) { refused += 1 }
        }
        let c1 = processCPUSeconds()
        for i in plain.indices { _ = open.admit(&plain[i], now: now) }
        let c2 = processCPUSeconds()
        guard refused == 0 else { throw BenchError("\(refused) of \(self.count) signed messages were refused") }
        emit("messages", self.count)
        emit("verify_cpu_us_per_msg", fixed((c1 - c0) / Double(self.count) * 1e6, 1))
        emit("unregistered_cpu_us_per_msg", fixed((c2 - c1) / Double(self.count) * 1e6, 2))
    }
}
