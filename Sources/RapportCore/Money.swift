import RapportSupport
import Foundation

/// Money and quantities as exact decimals, rounded half-up (四舍五入) to the cent where money is made.
public enum Money {
    /// Parses "1234.5" or "1234.50"; nil for anything else (no exponents, no thousands separators).
    public static func parse(_ s: String) -> Decimal? {
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-") }),
              s.filter({ $0 == "." }).count <= 1, let d = Decimal(string: s, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        return d
    }

    public static func cents(_ d: Decimal) -> Decimal {
        var v = d, out = Decimal()
        NSDecimalRound(&out, &v, 2, .plain)
        return out
    }

    /// Two decimals, "1234.50".
    public static func text(_ d: Decimal) -> String {
        let c = Self.cents(d)
        var s = NSDecimalNumber(decimal: c).stringValue
        if !s.contains(".") { s += ".00" } else if s.split(separator: ".").last!.count == 1 { s += "0" }
        return s
    }
}
