import Foundation
import RapportSupport

/// One alert message on `rapport.alerts`.
public struct Alert: Sendable, Hashable {
    public var host: String
    public var reading: Reading
    public var severity: Severity
    /// `firing`, or `resolved` when the condition cleared (then `severity` is what it had been).
    public var status: String
    public var threshold: Double?
    public var firstSeen: Date
    public var at: Date
    public var fingerprint: String
    /// 1 for the first notice, then 2, 3… for reminders while it lasts.
    public var notification: Int

    /// `alert.<severity>.<category>.<check>`; a resolved message keeps its alert's key, so whoever
    /// subscribed to the alert also hears that it cleared.
    public var routingKey: String { "alert.\(self.severity.rawValue).\(self.reading.category).\(self.reading.check)" }

    public var json: JSONValue {
        func num(_ d: Double?) -> JSONValue { d.map { .number($0) } ?? .null }
        return .object([
            "host": .string(self.host), "check": .string(self.reading.check), "category": .string(self.reading.category),
            "subject": JSONValue.optional(self.reading.subject), "severity": .string(self.severity.rawValue), "status": .string(self.status),
            "value": num(self.reading.value), "threshold": num(self.threshold), "unit": .string(self.reading.unit),
            "detail": JSONValue.optional(self.reading.detail), "first_seen": .string(ISO8601.string(self.firstSeen)), "at": .string(ISO8601.string(self.at)),
            "fingerprint": .string(self.fingerprint), "notification": .number(Double(self.notification)),
        ])
    }
}

/// Turns readings into alerts on transitions: a check crossing into warning or critical fires once,
/// reminds every `renotify` while it lasts, fires again if its severity changes, and sends one
/// `resolved` when it is back under its thresholds. Not every poll.
///
/// - Important: Not thread-safe; the monitor loop owns it.
public final class AlertEngine: @unchecked Sendable {
    public let host: String
    public var thresholds: [String: Threshold]
    public let renotify: TimeInterval
    /// Polls in a row a breach must be seen before it fires: one bad sample (a worker still starting,
    /// management statistics a few seconds behind) is not an alert.
    public let confirmations: Int
    private var open: [String: (severity: Severity, firstSeen: Date, lastNotified: Date, count: Int)] = [:]
    private var pending: [String: (severity: Severity, since: Date, seen: Int)] = [:]

    public init(host: String, thresholds: [String: Threshold] = DefaultThresholds.all, renotify: TimeInterval = 3600, confirmations: Int = 1) {
        self.host = host
        self.thresholds = thresholds
        self.renotify = renotify
        self.confirmations = max(1, confirmations)
    }

    public func severity(of r: Reading) -> Severity { self.thresholds[r.check]?.status(of: r.value) ?? .ok }

    public func fingerprint(_ r: Reading) -> String {
        String(SHA256.hex(Array("\(self.host)\u{1F}\(r.check)\u{1F}\(r.subject ?? "")".utf8)).prefix(16))
    }

    public func evaluate(_ readings: [Reading], now: Date) -> [Alert] {
        var out: [Alert] = []
        for r in readings {
            let fp = self.fingerprint(r)
            let severity = self.severity(of: r)
            let threshold = self.thresholds[r.check]
            if severity == .ok {
                self.pending[fp] = nil
                if let was = self.open.removeValue(forKey: fp) {
                    out.append(Alert(host: self.host, reading: r, severity: was.severity, status: "resolved", threshold: threshold?.limit(for: was.severity),
                                     firstSeen: was.firstSeen, at: now, fingerprint: fp, notification: was.count + 1))
                }
                continue
            }
            if let was = self.open[fp], was.severity == severity, now.timeIntervalSince(was.lastNotified) < self.renotify { continue }
            let previous = self.open[fp]
            if previous?.severity != severity {
                // A new breach (or a new severity) must hold for `confirmations` polls first.
                var p: (severity: Severity, since: Date, seen: Int) = self.pending[fp].flatMap { $0.severity == severity ? $0 : nil } ?? (severity, now, 0)
                p.seen += 1
                guard p.seen >= self.confirmations else {
                    self.pending[fp] = p
                    continue
                }
                self.pending[fp] = nil
            }
            let count = previous.map { $0.severity == severity ? $0.count + 1 : 1 } ?? 1
            let firstSeen = previous?.firstSeen ?? now
            self.open[fp] = (severity, firstSeen, now, count)
            out.append(Alert(host: self.host, reading: r, severity: severity, status: "firing", threshold: threshold?.limit(for: severity),
                             firstSeen: firstSeen, at: now, fingerprint: fp, notification: count))
        }
        return out
    }
}
