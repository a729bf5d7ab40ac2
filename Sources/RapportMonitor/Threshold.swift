import Foundation

/// Warning and critical levels of one check; `lowerIsWorse` for things like free space.
public struct Threshold: Sendable, Hashable, Codable {
    public var warning: Double?
    public var critical: Double?
    public var lowerIsWorse: Bool

    public init(warning: Double? = nil, critical: Double? = nil, lowerIsWorse: Bool = false) {
        self.warning = warning
        self.critical = critical
        self.lowerIsWorse = lowerIsWorse
    }

    enum CodingKeys: String, CodingKey { case warning, critical, lowerIsWorse = "lower_is_worse" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.warning = try c.decodeIfPresent(Double.self, forKey: .warning)
        self.critical = try c.decodeIfPresent(Double.self, forKey: .critical)
        self.lowerIsWorse = try c.decodeIfPresent(Bool.self, forKey: .lowerIsWorse) ?? false
    }

    public func status(of value: Double?) -> Severity {
        guard let v = value else { return .ok }
        func breached(_ limit: Double?) -> Bool { limit.map { self.lowerIsWorse ? v <= $0 : v >= $0 } ?? false }
        if breached(self.critical) { return .critical }
        if breached(self.warning) { return .warning }
        return .ok
    }

    /// The limit the value crossed, for the alert.
    public func limit(for severity: Severity) -> Double? {
        switch severity {
        case .critical: self.critical
        case .warning: self.warning
        case .ok: nil
        }
    }
}

public enum Severity: String, Sendable, Hashable, Codable, Comparable {
    /// Below the warning level.
    case ok, warning, critical

    /// 0, 1, 2: for gauges and ordering.
    public var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

