import Foundation

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
        var (year, month, day) = Self.civil(fromDays: days)
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
    /// `infinity` / `-infinity`.
    static func parse(_ text: String) throws -> Date {
        switch text {
        case "infinity", "+infinity":
            return .distantFuture
        case "-infinity":
            return .distantPast
        default:
            break
        }
        var scanner = Scanner(bytes: Array(text.utf8))
        func fail() -> PGError {
            PGError.unparsable(text, as: Date.self)
        }
        scanner.skipSpaces()
        guard var year = scanner.digits(minimum: 4, maximum: 9), scanner.take(UInt8(ascii: "-")),
            let month = scanner.digits(minimum: 2, maximum: 2), (1...12).contains(month),
            scanner.take(UInt8(ascii: "-")),
            let day = scanner.digits(minimum: 2, maximum: 2), (1...31).contains(day)
        else {
            throw fail()
        }
        var secondOfDay: Int64 = 0
        var nanos: Int64 = 0
        if scanner.take(UInt8(ascii: "T")) || (scanner.peek(offset: 1).map(Self.isDigit) == true && scanner.take(UInt8(ascii: " "))) {
            guard let hour = scanner.digits(minimum: 2, maximum: 2), hour <= 24,
                scanner.take(UInt8(ascii: ":")),
                let minute = scanner.digits(minimum: 2, maximum: 2), minute <= 59
            else {
                throw fail()
            }
            var second: Int64 = 0
            if scanner.take(UInt8(ascii: ":")) {
                guard let value = scanner.digits(minimum: 2, maximum: 2), value <= 60 else {
                    throw fail()
                }
                second = value
                if scanner.take(UInt8(ascii: ".")) {
                    guard let fraction = scanner.fraction() else {
                        throw fail()
                    }
                    nanos = fraction
                }
            }
            secondOfDay = hour * 3600 + minute * 60 + second
        }
        var offset: Int64 = 0
        if scanner.take(UInt8(ascii: "Z")) {
            offset = 0
        } else if let sign = scanner.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            scanner.advance()
            guard let hours = scanner.digits(minimum: 2, maximum: 2) else {
                throw fail()
            }
            var minutes: Int64 = 0
            var seconds: Int64 = 0
            if scanner.take(UInt8(ascii: ":")) {
                guard let value = scanner.digits(minimum: 2, maximum: 2) else {
                    throw fail()
                }
                minutes = value
                if scanner.take(UInt8(ascii: ":")) {
                    guard let value = scanner.digits(minimum: 2, maximum: 2) else {
                        throw fail()
                    }
                    seconds = value
                }
            } else if let value = scanner.digits(minimum: 2, maximum: 2) {
                minutes = value
            }
            guard minutes < 60, seconds < 60 else {
                throw fail()
            }
            offset = (hours * 3600 + minutes * 60 + seconds) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        scanner.skipSpaces()
        if scanner.take(UInt8(ascii: "B")) {
            guard scanner.take(UInt8(ascii: "C")) else {
                throw fail()
            }
            year = 1 - year
            scanner.skipSpaces()
        }
        guard scanner.isAtEnd else {
            throw fail()
        }
        let days = Self.days(fromCivil: year, month, day)
        let unix = days * 86_400 + secondOfDay - offset
        let reference = unix - Self.unixToReference
        return Date(timeIntervalSinceReferenceDate: Double(reference) + Double(nanos) / 1_000_000_000)
    }

    // MARK: - Calendar arithmetic (Howard Hinnant's days_from_civil / civil_from_days)

    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
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

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        var isAtEnd: Bool { self.position == self.bytes.count }

        func peek(offset: Int = 0) -> UInt8? {
            self.position + offset < self.bytes.count ? self.bytes[self.position + offset] : nil
        }

        mutating func advance() {
            self.position += 1
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard self.peek() == byte else {
                return false
            }
            self.position += 1
            return true
        }

        mutating func skipSpaces() {
            while self.peek() == UInt8(ascii: " ") {
                self.position += 1
            }
        }

        /// Between `minimum` and `maximum` decimal digits as a number.
        mutating func digits(minimum: Int, maximum: Int) -> Int64? {
            var value: Int64 = 0
            var count = 0
            while count < maximum, let byte = self.peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                count += 1
                self.position += 1
            }
            return count >= minimum ? value : nil
        }

        /// The digits after a decimal point, as nanoseconds (extra digits are truncated).
        mutating func fraction() -> Int64? {
            var nanos: Int64 = 0
            var count = 0
            while let byte = self.peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if count < 9 {
                    nanos = nanos * 10 + Int64(byte - UInt8(ascii: "0"))
                }
                count += 1
                self.position += 1
            }
            guard count > 0 else {
                return nil
            }
            for _ in count..<max(count, 9) {
                nanos *= 10
            }
            return nanos
        }
    }
}
