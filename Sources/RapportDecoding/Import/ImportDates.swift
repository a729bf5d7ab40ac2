import RapportCore
import RapportSupport

/// Excel's serial dates: which number formats are dates, and the serial as an ISO 8601 date or time.
enum ImportDates {
    /// Built-in date and time formats (ECMA-376 §18.8.30), with the CJK locales' 27–36 and 50–58.
    static let builtIn: Set<Int> = Set(14...22).union(27...36).union(45...47).union(50...58)

    /// A date or time format: a built-in one, or a custom code with date or time tokens outside quoted
    /// text, escapes and `[…]` sections (so `0.00"d"` is not a date, `yyyy"年"m"月"d"日"` is).
    static func isDateFormat(id: Int, code: String?) -> Bool {
        if Self.builtIn.contains(id) { return true }
        guard let code, id >= 164 || !code.isEmpty else { return false }
        var quoted = false, bracket = false, escaped = false
        for ch in code.lowercased() {
            if escaped { escaped = false; continue }
            switch ch {
            case "\\": escaped = true
            case "\"": quoted.toggle()
            case "[": if !quoted { bracket = true }
            case "]": if !quoted { bracket = false }
            case "y", "d", "h", "s", "e":
                if !quoted && !bracket { return true }
            case "m":
                // m alone could be minutes in a time format; either way a date/time.
                if !quoted && !bracket { return true }
            default: break
            }
        }
        return false
    }

    /// `2026-11-25`, or `2026-11-25T09:30:00` when the serial has a time of day; nil when out of range.
    static func iso(serial: Double, date1904: Bool) -> String? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }  // 9999-12-31
        var days = Int(serial.rounded(.down))
        var seconds = Int(((serial - Double(days)) * 86_400).rounded())
        if seconds >= 86_400 { days += 1; seconds -= 86_400 }
        // 1900 system: day 1 is 1900-01-01, and Excel counts a 29 February 1900 that never was (day 60).
        let epoch = date1904 ? CivilCalendar.daysFromCivil(year: 1904, month: 1, day: 1)
            : CivilCalendar.daysFromCivil(year: 1899, month: 12, day: days >= 61 ? 30 : 31)
        let (y, m, d) = CivilCalendar.civilFromDays(epoch + days)
        let date = "\(y)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
        guard seconds > 0 else { return date }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return date + "T" + two(seconds / 3600) + ":" + two(seconds / 60 % 60) + ":" + two(seconds % 60)
    }
}
