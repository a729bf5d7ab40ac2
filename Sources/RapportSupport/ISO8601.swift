import Foundation

/// The one ISO 8601 / RFC 3339 date-time parser: web forms, mappings, commands and PostgreSQL's
/// `timestamptz` text all go through it, so a time one of them accepts is accepted by the others
/// (within what each ``Rules`` allows).
///
/// Grammar: `YYYY-MM-DD[(T|t|space)hh:mm[:ss[(.|,)fraction]]][Z|z|±hh[:mm[:ss]]|±hhmm]`, then for
/// PostgreSQL a ` BC` suffix. No locale, no time-zone database: proleptic Gregorian via ``CivilCalendar``.
public enum ISO8601 {
    /// What a caller accepts beyond the common grammar.
    public struct Rules: Sendable, Hashable {
        /// A time zone must be given (a local time cannot be placed on the timeline).
        public var requiresZone: Bool
        /// A date alone (`2026-11-25`) is midnight UTC.
        public var allowsDateOnly: Bool
        /// Years of 4 to 9 digits, `24:00`, and a ` BC` suffix, as PostgreSQL writes them.
        public var allowsExtendedYears: Bool

        /// RFC 3339 date-times with a zone: what inbound messages and commands carry.
        public static let rfc3339 = Rules(requiresZone: true, allowsDateOnly: false, allowsExtendedYears: false)
        /// RFC 3339 date-times; a missing zone is left to the caller (``Parsed/hasZone``).
        public static let zoneOptional = Rules(requiresZone: false, allowsDateOnly: false, allowsExtendedYears: false)
        /// PostgreSQL's `timestamptz` / `date` output.
        public static let postgres = Rules(requiresZone: false, allowsDateOnly: true, allowsExtendedYears: true)
    }

    /// A parsed value: the instant (read as UTC when no zone was given) and what the text had.
    public struct Parsed: Sendable, Hashable {
        public var date: Date
        public var hasTime: Bool
        public var hasZone: Bool
        /// The civil date as written, before any offset was applied.
        public var year: Int, month: Int, day: Int
        /// Seconds east of UTC (0 without a zone).
        public var offsetSeconds: Int
    }

    /// The instant, or `nil` when `text` is not a date-time these rules accept.
    public static func date(_ text: String, rules: Rules = .rfc3339) -> Date? {
        Self.parse(text, rules: rules)?.date
    }

    /// Parses `text` (surrounding spaces ignored).
    public static func parse(_ text: String, rules: Rules = .rfc3339) -> Parsed? {
        var s = Scanner(Array(text.utf8))
        s.skipSpaces()
        guard var year = s.digits(4...(rules.allowsExtendedYears ? 9 : 4)), s.take("-"),
              let month = s.digits(2...2), s.take("-"), let day = s.digits(2...2) else { return nil }
        var hasTime = false
        var secondOfDay = 0
        var nanos = 0
        if s.take("T") || s.take("t") || (s.peekIsDigit(offset: 1) && s.take(" ")) {
            guard let hour = s.digits(2...2), s.take(":"), let minute = s.digits(2...2),
                  hour <= (rules.allowsExtendedYears ? 24 : 23), minute <= 59 else { return nil }
            var second = 0
            if s.take(":") {
                guard let value = s.digits(2...2), value <= 60 else { return nil }
                second = value
                if s.take(".") || s.take(",") {
                    guard let f = s.fractionNanos() else { return nil }
                    nanos = f
                }
            }
            hasTime = true
            secondOfDay = hour * 3600 + minute * 60 + second
        } else if !rules.allowsDateOnly {
            return nil
        }
        var hasZone = false
        var offset = 0
        if hasTime, s.take("Z") || s.take("z") {
            hasZone = true
        } else if hasTime, let sign = s.takeSign() {
            guard let hours = s.digits(2...2), hours <= 23 else { return nil }
            var minutes = 0, seconds = 0
            if s.take(":") {
                guard let m = s.digits(2...2) else { return nil }
                minutes = m
                if rules.allowsExtendedYears, s.take(":") {
                    guard let v = s.digits(2...2) else { return nil }
                    seconds = v
                }
            } else if let m = s.digits(2...2) {
                minutes = m
            }
            guard minutes <= 59, seconds <= 59 else { return nil }
            hasZone = true
            offset = sign * (hours * 3600 + minutes * 60 + seconds)
        }
        if rules.requiresZone && !hasZone { return nil }
        s.skipSpaces()
        if rules.allowsExtendedYears, s.take("B") {
            guard s.take("C") else { return nil }
            year = 1 - year
            s.skipSpaces()
        }
        guard s.isAtEnd, (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year) else { return nil }
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        // From the reference date, not 1970: fewer significant digits lost to the Double.
        let reference = days * 86_400 + secondOfDay - offset - 978_307_200
        let date = Date(timeIntervalSinceReferenceDate: Double(reference) + Double(nanos) / 1_000_000_000)
        return Parsed(date: date, hasTime: hasTime, hasZone: hasZone, year: year, month: month, day: day, offsetSeconds: offset)
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { self.index == self.bytes.count }

        static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

        func peekIsDigit(offset: Int) -> Bool {
            self.index + offset < self.bytes.count && Self.isDigit(self.bytes[self.index + offset])
        }

        mutating func take(_ c: Unicode.Scalar) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: c) else { return false }
            self.index += 1
            return true
        }

        mutating func takeSign() -> Int? {
            if self.take("+") { return 1 }
            if self.take("-") { return -1 }
            return nil
        }

        mutating func skipSpaces() {
            while self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: " ") { self.index += 1 }
        }

        /// Between `width.lowerBound` and `width.upperBound` digits (as many as there are).
        mutating func digits(_ width: ClosedRange<Int>) -> Int? {
            var value = 0, count = 0
            while count < width.upperBound, self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) {
                value = value * 10 + Int(self.bytes[self.index] - UInt8(ascii: "0"))
                self.index += 1
                count += 1
            }
            return count >= width.lowerBound ? value : nil
        }

        /// At least one digit; nanoseconds from the first nine, the rest ignored.
        mutating func fractionNanos() -> Int? {
            var nanos = 0, count = 0
            while self.index < self.bytes.count, Self.isDigit(self.bytes[self.index]) {
                if count < 9 { nanos = nanos * 10 + Int(self.bytes[self.index] - UInt8(ascii: "0")) }
                count += 1
                self.index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 9) { nanos *= 10 }
            return nanos
        }
    }
}

extension ISO8601 {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// `2026-11-25T01:30:00.000Z`: the form events, headers and exports write.
    public static func string(_ date: Date) -> String { Self.style.format(date) }
}
