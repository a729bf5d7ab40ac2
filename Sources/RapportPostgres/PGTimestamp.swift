import Foundation
import RapportSupport

/// `timestamptz` text formatting and parsing without `DateFormatter` (proleptic Gregorian
/// calendar, like PostgreSQL).
internal enum PGTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, the `Date` reference date.
    private static let unixToReference: Int64 = 978_307_200
    /// About 300,000 years: beyond PostgreSQL's range, and safe from `Int64` overflow.
    private static let maximumSeconds: Double = 9.0e12

    /// `2026-11-25T11:54:40.123456Z`, with a ` BC` suffix before year 1.
    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSinceReferenceDate
        if interval.isNaN {
            return "NaN"
        }
        if interval > Self.maximumSeconds {
            return "infinity"
        }
        if interval < -Self.maximumSeconds {
            return "-infinity"
        }
        var whole = interval.rounded(.down)
        var micros = Int64(((interval - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        let unix = Int64(whole) + Self.unixToReference
        let (days, secondOfDay) = Self.floorDivide(unix, 86_400)
        let civil = CivilCalendar.civilFromDays(Int(days))
        var (year, month, day) = (Int64(civil.year), Int64(civil.month), Int64(civil.day))
        let bc = year <= 0
        if bc {
            year = 1 - year
        }
        var text = Self.padded(year, 4)
        text += "-" + Self.padded(month, 2) + "-" + Self.padded(day, 2)
        text += "T" + Self.padded(secondOfDay / 3600, 2)
        text += ":" + Self.padded(secondOfDay / 60 % 60, 2)
        text += ":" + Self.padded(secondOfDay % 60, 2)
        text += "." + Self.padded(micros, 6) + "Z"
        if bc {
            text += " BC"
        }
        return text
    }

    /// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][Z|±HH[:MM[:SS]]|±HHMM][ BC]`, or
    /// `infinity` / `-infinity`, through the one ISO 8601 parser (PostgreSQL's rules).
    static func parse(_ text: String) throws -> Date {
        switch text {
        case "infinity", "+infinity":
            return .distantFuture
        case "-infinity":
            return .distantPast
        default:
            guard let date = ISO8601.date(text, rules: .postgres) else { throw PGError.unparsable(text, as: Date.self) }
            return date
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
