import Foundation
import RapportCore
import RapportSupport

/// One accepted date format of a mapping rule: a named format or a hand-parsed pattern.
///
/// Parsing is done by hand on purpose: `DateFormatter` depends on the locale, the calendar and the ICU
/// version, and quietly accepts or rejects things differently between platforms. Here a pattern means
/// exactly what the mapping format documents (`connectors/README.md`), everywhere.
enum MappingDateFormat: Hashable, Sendable {
    /// RFC 3339 / ISO 8601 date-time with `Z` or an offset, as ``RapportCore/WebFormDecoder`` accepts it.
    case iso8601
    /// Seconds since 1970 as a number or a digit string (below 10^11, so milliseconds are caught).
    case epochSeconds
    /// Milliseconds since 1970 as a number or a digit string.
    case epochMillis
    /// A spreadsheet serial date: days since 1899-12-30 (Excel's 1900 system), the fraction being the time
    /// of day in the rule's time zone; a number or a numeric string, as an `.xlsx` date cell is read.
    case excelSerial
    /// A pattern such as `yyyy-MM-dd HH:mm:ss`.
    case pattern(MappingDatePattern)

    /// Parses one `date_format` entry of a mapping.
    ///
    /// - Parameter text: `iso8601`, `epoch_seconds`, `epoch_millis`, `excel_serial` or a pattern.
    /// - Returns: The format.
    /// - Throws: A sentence saying what is wrong with the pattern.
    static func parse(_ text: String) throws(MappingDatePatternError) -> MappingDateFormat {
        switch text {
        case "iso8601": return .iso8601
        case "epoch_seconds": return .epochSeconds
        case "epoch_millis": return .epochMillis
        case "excel_serial": return .excelSerial
        default: return .pattern(try MappingDatePattern(parsing: text))
        }
    }

    /// How the format is written in a mapping file.
    var name: String {
        switch self {
        case .iso8601: return "iso8601"
        case .epochSeconds: return "epoch_seconds"
        case .epochMillis: return "epoch_millis"
        case .excelSerial: return "excel_serial"
        case .pattern(let pattern): return pattern.text
        }
    }

    /// Largest accepted epoch-seconds value (year 5138); bigger numbers are almost certainly milliseconds.
    private static let maxEpochSeconds: Double = 100_000_000_000

    /// Reads `value` in this format.
    ///
    /// - Parameters:
    ///   - value: A JSON string, or a number for the epoch formats.
    ///   - offsetSeconds: The UTC offset for patterns without a time zone.
    /// - Returns: The date, or `nil` when the value is not in this format.
    func read(_ value: JSONValue, offsetSeconds: Int) -> MappingParsedDate? {
        switch (self, value) {
        case (.epochSeconds, .number(let seconds)):
            return Self.epoch(seconds, limit: Self.maxEpochSeconds)
        case (.epochMillis, .number(let millis)):
            return Self.epoch(millis / 1000, limit: Self.maxEpochSeconds)
        case (.epochSeconds, .string(let text)):
            return Self.epochText(text).flatMap { Self.epoch($0, limit: Self.maxEpochSeconds) }
        case (.epochMillis, .string(let text)):
            return Self.epochText(text).flatMap { Self.epoch($0 / 1000, limit: Self.maxEpochSeconds) }
        case (.excelSerial, .number(let days)):
            return Self.excelSerial(days, offsetSeconds: offsetSeconds)
        case (.excelSerial, .string(let text)):
            return Self.epochText(text).flatMap { Self.excelSerial($0, offsetSeconds: offsetSeconds) }
        case (.iso8601, .string(let text)):
            guard let cleaned = Normalize.text(text) else { return nil }
            return ISO8601.date(cleaned).map { MappingParsedDate(date: $0, calendarDate: nil) }
        case (.pattern(let pattern), .string(let text)):
            guard let cleaned = Normalize.text(text) else { return nil }
            return pattern.parse(cleaned, offsetSeconds: offsetSeconds)
        default:
            return nil
        }
    }

    private static func epoch(_ seconds: Double, limit: Double) -> MappingParsedDate? {
        guard seconds.isFinite, seconds >= 0, seconds < limit else { return nil }
        return MappingParsedDate(date: Date(timeIntervalSince1970: seconds), calendarDate: nil)
    }

    /// Days between Excel's day 0 (1899-12-30) and 1970-01-01.
    private static let excelEpochOffsetDays = 25_569.0

    /// A serial day number; a whole number is a date without a time of day. Serials 1–60 are refused,
    /// because Excel counts a 29 February 1900 that never was.
    private static func excelSerial(_ days: Double, offsetSeconds: Int) -> MappingParsedDate? {
        guard days.isFinite, days > 60, days < 2_958_466 else { return nil }
        let wholeDays = days.rounded(.down)
        let seconds = ((days - Self.excelEpochOffsetDays) * 86_400).rounded() - Double(offsetSeconds)
        let date = Date(timeIntervalSince1970: seconds)
        guard days == wholeDays else { return MappingParsedDate(date: date, calendarDate: nil) }
        let civil = MappingDateMath.civil(fromDays: Int(wholeDays - Self.excelEpochOffsetDays))
        return MappingParsedDate(date: date, calendarDate: civil)
    }

    /// Digits with an optional fraction, nothing else.
    private static func epochText(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var sawDigit = false
        var sawDot = false
        for byte in trimmed.utf8 {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                sawDigit = true
            } else if byte == UInt8(ascii: "."), !sawDot, sawDigit {
                sawDot = true
            } else {
                return nil
            }
        }
        guard sawDigit, trimmed.last != "." else { return nil }
        return Double(trimmed)
    }
}

/// Why a date pattern in a mapping is not usable; the mapping parser turns it into a ``ChannelMappingError``.
struct MappingDatePatternError: Error, Sendable {
    /// One human sentence.
    var reason: String
}

/// A calendar date without a time of day, as written in the payload.
struct MappingCivilDate: Hashable, Sendable {
    var year: Int
    var month: Int
    var day: Int

    /// `YYYY-MM-DD`.
    var isoText: String {
        MappingDateMath.pad(self.year, 4) + "-" + MappingDateMath.pad(self.month, 2) + "-" + MappingDateMath.pad(self.day, 2)
    }
}

/// A date read from a payload.
struct MappingParsedDate: Hashable, Sendable {
    /// The instant (midnight at the rule's offset for a date-only format).
    var date: Date
    /// The calendar date as written, when the format has no time of day.
    var calendarDate: MappingCivilDate?

    /// The text stored in `LeadSubmission.fields`: `YYYY-MM-DD` for a date without a time of day, else
    /// RFC 3339 in UTC (`2024-01-01T00:20:49Z`, milliseconds only when present).
    var fieldText: String {
        if let calendarDate = self.calendarDate { return calendarDate.isoText }
        return MappingDateMath.rfc3339(self.date)
    }
}

/// A date pattern, parsed once from the mapping.
///
/// Letters: `yyyy` year; `MM`/`M` month; `dd`/`d` day; `HH`/`H` hour 0–23; `mm`/`m` minute; `ss`/`s`
/// second; `S…` fraction of a second (1–9 digits, however many `S` are written); `Z`, `ZZ`, `ZZZ`, `X`,
/// `XX`, `XXX` a time zone written `Z`, `±hh:mm`, `±hhmm` or `±hh`. A doubled letter takes exactly two
/// digits, a single one takes one or two. Text in single quotes is literal (`''` is a quote); any other
/// character that is not an ASCII letter is literal too, including CJK (`yyyy年M月d日`). Other ASCII letters
/// are errors, so `hh`, `a`, `EEE` or `yy` fail when the mapping is loaded, not later on a message.
struct MappingDatePattern: Hashable, Sendable {
    enum Token: Hashable, Sendable {
        case literal(Unicode.Scalar)
        case year
        case month(twoDigits: Bool)
        case day(twoDigits: Bool)
        case hour(twoDigits: Bool)
        case minute(twoDigits: Bool)
        case second(twoDigits: Bool)
        case fraction
        case zone
    }

    /// The pattern as written in the mapping.
    let text: String
    let tokens: [Token]
    /// The pattern has an hour.
    let hasTime: Bool
    /// The pattern has a time zone.
    let hasZone: Bool

    init(parsing text: String) throws(MappingDatePatternError) {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        var seen: Set<Character> = []

        func once(_ letter: Character) throws(MappingDatePatternError) {
            guard seen.insert(letter).inserted else {
                throw MappingDatePatternError(reason: "date pattern '\(text)' has '\(letter)' more than once")
            }
        }

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "'" {
                index += 1
                if index < scalars.count, scalars[index] == "'" {
                    tokens.append(.literal("'"))
                    index += 1
                    continue
                }
                var closed = false
                while index < scalars.count {
                    if scalars[index] == "'" {
                        if index + 1 < scalars.count, scalars[index + 1] == "'" {
                            tokens.append(.literal("'"))
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    tokens.append(.literal(scalars[index]))
                    index += 1
                }
                guard closed else {
                    throw MappingDatePatternError(reason: "date pattern '\(text)' has an unterminated quote")
                }
                continue
            }
            guard scalar.isASCII, scalar.properties.isAlphabetic else {
                tokens.append(.literal(scalar))
                index += 1
                continue
            }
            var run = 1
            while index + run < scalars.count, scalars[index + run] == scalar { run += 1 }
            index += run
            let letter = Character(scalar)
            let pair = run == 2
            func count(_ allowed: ClosedRange<Int>) throws(MappingDatePatternError) {
                guard allowed.contains(run) else {
                    throw MappingDatePatternError(
                        reason: "date pattern '\(text)' has \(String(repeating: letter, count: run)); "
                            + "write \(letter == "y" ? "yyyy" : "\(letter) or \(letter)\(letter)")")
                }
            }
            switch letter {
            case "y":
                try count(4...4)
                try once("y")
                tokens.append(.year)
            case "M":
                try count(1...2)
                try once("M")
                tokens.append(.month(twoDigits: pair))
            case "d":
                try count(1...2)
                try once("d")
                tokens.append(.day(twoDigits: pair))
            case "H":
                try count(1...2)
                try once("H")
                tokens.append(.hour(twoDigits: pair))
            case "m":
                try count(1...2)
                try once("m")
                tokens.append(.minute(twoDigits: pair))
            case "s":
                try count(1...2)
                try once("s")
                tokens.append(.second(twoDigits: pair))
            case "S":
                try once("S")
                tokens.append(.fraction)
            case "Z", "X":
                guard (1...3).contains(run) else {
                    throw MappingDatePatternError(reason: "date pattern '\(text)' has too many '\(letter)'")
                }
                try once("Z")
                tokens.append(.zone)
            default:
                throw MappingDatePatternError(
                    reason: "date pattern '\(text)' uses '\(letter)', which is not supported "
                        + "(yyyy MM M dd d HH H mm m ss s S Z X and quoted text are)")
            }
        }

        guard seen.contains("y"), seen.contains("M"), seen.contains("d") else {
            throw MappingDatePatternError(reason: "date pattern '\(text)' needs a year, a month and a day (yyyy, MM, dd)")
        }
        if seen.contains("m"), !seen.contains("H") {
            throw MappingDatePatternError(reason: "date pattern '\(text)' has minutes but no hour")
        }
        if seen.contains("s"), !seen.contains("m") {
            throw MappingDatePatternError(reason: "date pattern '\(text)' has seconds but no minutes")
        }
        if seen.contains("S"), !seen.contains("s") {
            throw MappingDatePatternError(reason: "date pattern '\(text)' has a fraction but no seconds")
        }
        if seen.contains("Z"), !seen.contains("H") {
            throw MappingDatePatternError(reason: "date pattern '\(text)' has a time zone but no time of day")
        }
        self.text = text
        self.tokens = tokens
        self.hasTime = seen.contains("H")
        self.hasZone = seen.contains("Z")
    }

    /// Reads `text`, which must match the whole pattern.
    ///
    /// - Parameters:
    ///   - text: The value, already trimmed and NFKC-normalized.
    ///   - offsetSeconds: The UTC offset to use when the pattern has no zone.
    /// - Returns: The date, or `nil` when the text does not match or is not a real date.
    func parse(_ text: String, offsetSeconds: Int) -> MappingParsedDate? {
        var scanner = MappingDateScanner(text)
        var fields = MappingDateFields()
        for token in self.tokens {
            switch token {
            case .literal(let scalar):
                guard scanner.take(scalar) else { return nil }
            case .year:
                guard let value = scanner.digits(4...4) else { return nil }
                fields.year = value
            case .month(let two):
                guard let value = scanner.digits(two ? 2...2 : 1...2) else { return nil }
                fields.month = value
            case .day(let two):
                guard let value = scanner.digits(two ? 2...2 : 1...2) else { return nil }
                fields.day = value
            case .hour(let two):
                guard let value = scanner.digits(two ? 2...2 : 1...2) else { return nil }
                fields.hour = value
            case .minute(let two):
                guard let value = scanner.digits(two ? 2...2 : 1...2) else { return nil }
                fields.minute = value
            case .second(let two):
                guard let value = scanner.digits(two ? 2...2 : 1...2) else { return nil }
                fields.second = value
            case .fraction:
                guard let value = scanner.fraction() else { return nil }
                fields.fraction = value
            case .zone:
                guard let value = scanner.zone() else { return nil }
                fields.offsetSeconds = value
            }
        }
        guard scanner.atEnd else { return nil }
        if !self.hasZone { fields.offsetSeconds = offsetSeconds }
        guard let date = fields.date() else { return nil }
        let calendarDate = self.hasTime ? nil : MappingCivilDate(year: fields.year, month: fields.month, day: fields.day)
        return MappingParsedDate(date: date, calendarDate: calendarDate)
    }
}

extension MappingDateFormat {
    /// Parses a rule's `timezone`: `UTC`, `GMT`, `Z`, or a fixed offset `±hh:mm`, `±hhmm`, `±hh`.
    ///
    /// Named zones such as `Asia/Shanghai` are deliberately not supported: a fixed offset cannot change
    /// with daylight-saving rules or the time-zone database of the machine.
    ///
    /// - Parameter text: The setting.
    /// - Returns: The offset in seconds east of UTC, or `nil` when the text is not one of the forms above.
    static func utcOffset(_ text: String) -> Int? {
        switch text.uppercased() {
        case "UTC", "GMT", "Z": return 0
        default: break
        }
        var scanner = MappingDateScanner(text)
        guard scanner.peekIsSign, let offset = scanner.zone(), scanner.atEnd else { return nil }
        return offset
    }
}

/// Components collected while scanning, validated and turned into a `Date` at the end.
private struct MappingDateFields {
    var year = 0
    var month = 1
    var day = 1
    var hour = 0
    var minute = 0
    var second = 0
    var fraction = 0.0
    var offsetSeconds = 0

    func date() -> Date? {
        guard (1...12).contains(self.month),
            (1...MappingDateMath.daysIn(month: self.month, year: self.year)).contains(self.day),
            self.hour <= 23, self.minute <= 59, self.second <= 60
        else { return nil }
        let days = MappingDateMath.daysFromCivil(year: self.year, month: self.month, day: self.day)
        let seconds = days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second - self.offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + self.fraction)
    }
}

/// A cursor over the Unicode scalars of a date value.
private struct MappingDateScanner {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) {
        self.scalars = Array(text.unicodeScalars)
    }

    var atEnd: Bool { self.index == self.scalars.count }

    var peekIsSign: Bool {
        self.index < self.scalars.count && (self.scalars[self.index] == "+" || self.scalars[self.index] == "-")
    }

    mutating func take(_ scalar: Unicode.Scalar) -> Bool {
        guard self.index < self.scalars.count, self.scalars[self.index] == scalar else { return false }
        self.index += 1
        return true
    }

    /// Between `count.lowerBound` and `count.upperBound` ASCII digits, as many as there are.
    mutating func digits(_ count: ClosedRange<Int>) -> Int? {
        var value = 0
        var taken = 0
        while taken < count.upperBound, self.index < self.scalars.count, let digit = Self.digit(self.scalars[self.index]) {
            value = value * 10 + digit
            taken += 1
            self.index += 1
        }
        return taken >= count.lowerBound ? value : nil
    }

    /// 1–9 digits after a decimal point, as a fraction of a second.
    mutating func fraction() -> Double? {
        var value = 0.0
        var scale = 0.1
        var taken = 0
        while self.index < self.scalars.count, let digit = Self.digit(self.scalars[self.index]) {
            guard taken < 9 else { return nil }
            value += Double(digit) * scale
            scale /= 10
            taken += 1
            self.index += 1
        }
        return taken > 0 ? value : nil
    }

    /// `Z`/`z`, or `±hh:mm`, `±hhmm`, `±hh`; the offset in seconds east of UTC.
    mutating func zone() -> Int? {
        if self.take("Z") || self.take("z") { return 0 }
        let sign: Int
        if self.take("+") {
            sign = 1
        } else if self.take("-") {
            sign = -1
        } else {
            return nil
        }
        guard let hours = self.digits(2...2) else { return nil }
        var minutes = 0
        if self.take(":") {
            guard let value = self.digits(2...2) else { return nil }
            minutes = value
        } else if self.index < self.scalars.count, Self.digit(self.scalars[self.index]) != nil {
            guard let value = self.digits(2...2) else { return nil }
            minutes = value
        }
        guard hours <= 23, minutes <= 59 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    private static func digit(_ scalar: Unicode.Scalar) -> Int? {
        guard scalar.value >= 0x30, scalar.value <= 0x39 else { return nil }
        return Int(scalar.value - 0x30)
    }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's algorithms), free of locales and time zones.
enum MappingDateMath {
    static func daysIn(month: Int, year: Int) -> Int { CivilCalendar.daysIn(month: month, year: year) }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int { CivilCalendar.daysFromCivil(year: year, month: month, day: day) }

    /// The calendar date of a day number (days since 1970-01-01).
    static func civil(fromDays days: Int) -> MappingCivilDate {
        let c = CivilCalendar.civilFromDays(days)
        return MappingCivilDate(year: c.year, month: c.month, day: c.day)
    }

    /// `YYYY-MM-DDThh:mm:ss[.mmm]Z`.
    static func rfc3339(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var whole = Int(interval.rounded(.down))
        var millis = Int(((interval - Double(whole)) * 1000).rounded())
        if millis == 1000 {
            whole += 1
            millis = 0
        }
        let days = Int((Double(whole) / 86_400).rounded(.down))
        let secondsOfDay = whole - days * 86_400
        let civil = Self.civil(fromDays: days)
        var text = civil.isoText + "T" + Self.pad(secondsOfDay / 3600, 2) + ":" + Self.pad(secondsOfDay / 60 % 60, 2)
            + ":" + Self.pad(secondsOfDay % 60, 2)
        if millis != 0 { text += "." + Self.pad(millis, 3) }
        return text + "Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(abs(value))
        let padded = digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        return value < 0 ? "-" + padded : padded
    }
}
