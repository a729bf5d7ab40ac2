import RapportSupport
import Foundation

/// Canonical forms for contact data, so that the same person typed two ways compares equal.
///
/// Every function takes an optional raw string and returns `nil` for "nothing usable", which lets callers
/// chain them directly on decoded fields. All of them apply Unicode NFKC first, so full-width forms that
/// Chinese and Japanese input methods produce (`１３８`, `＋`, `Ｊｏｈｎ`, the ideographic space U+3000)
/// become their ASCII equivalents.
public enum Normalize {
    /// trim (incl. full-width spaces), NFKC, lowercase; nil when empty or not a plausible address (exactly one @, non-empty local part, domain with a dot and no spaces).
    ///
    /// The domain must consist of at least two non-empty dot-separated labels (`a@b.c`, not `a@b.`
    /// or `a@.b`). No whitespace or control characters are allowed anywhere in the address.
    ///
    /// - Parameter raw: The address as submitted.
    /// - Returns: The lowercased address, or `nil`.
    public static func email(_ raw: String?) -> String? {
        guard let cleaned = Self.clean(raw) else { return nil }
        let address = cleaned.lowercased()
        guard !address.unicodeScalars.contains(where: { Self.isSpaceOrControl($0) }) else { return nil }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let local = parts[0]
        let domain = parts[1]
        guard !local.isEmpty else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return nil }
        return address
    }

    /// E.164 ("+8613800138000") or nil when it cannot be a phone number. defaultRegion is an ISO country code; support at least CN (86), HK (852), MO (853), TW (886), US/CA (1), GB (44), SG (65), JP (81), KR (82), DE (49), AU (61) in a small table.
    /// Rules: NFKC first (full-width digits/plus become ASCII); strip spaces, -, ., (, ), /, and separators; "+" or "00" prefix means international; for CN: 11-digit mobiles starting 1[3-9], with or without 86/+86/0086 prefix, and landlines with trunk 0 (010-12345678 → +861012345678, 0755 8888 8888 → +8675588888888); a bare "86" + 11-digit mobile (13 digits) is also CN. Other regions: strip a leading trunk 0 and prefix the calling code. Reject results with fewer than 8 or more than 15 digits, or containing letters. Trailing extensions ("ext 12", "x12", "转12", "#12") are dropped.
    /// Examples that must all give "+8613800138000": "138 0013 8000", "+86-138-0013-8000", "0086 13800138000", "８６１３８００１３８０００" (full-width), "(+86) 138.0013.8000", "13800138000".
    ///
    /// Details beyond the rules above:
    /// - Extension markers recognised: `ext`, `ext.`, `extension`, `x`, `转`, `分机`, `#`, each followed by
    ///   1–6 digits at the end of the input.
    /// - Numbers with a known calling code (the table above) are checked against that country's national
    ///   number length, and a trunk prefix written after the calling code (`+44 (0)20 …`) is removed.
    ///   Chinese national numbers must be a mobile (`1[3-9]` + 9 digits) or a landline (`10`/`2x` + 7–8 digits,
    ///   or a 3-digit area code starting 3–9 + 7–8 digits).
    /// - International numbers with other calling codes are accepted as written if they have 8–15 digits.
    /// - A national number (no `+`/`00`) with a `defaultRegion` that is not in the table gives `nil`.
    ///
    /// - Parameters:
    ///   - raw: The number as submitted.
    ///   - defaultRegion: ISO 3166-1 alpha-2 code (case-insensitive) used for numbers written without an
    ///     international prefix. Defaults to `"CN"`.
    /// - Returns: The number in E.164 form, or `nil`.
    public static func phone(_ raw: String?, defaultRegion: String = "CN") -> String? {
        guard let cleaned = Self.clean(raw) else { return nil }
        let withoutExtension = Self.droppingExtension(cleaned)

        var digits = ""
        var sawPlus = false
        for scalar in withoutExtension.unicodeScalars {
            if scalar.value >= 0x30, scalar.value <= 0x39 {
                digits.unicodeScalars.append(scalar)
            } else if scalar == "+" {
                // One plus, before any digit ("(+86) 138…" is fine, "138+1" is not).
                guard !sawPlus, digits.isEmpty else { return nil }
                sawPlus = true
            } else if Self.isPhoneSeparator(scalar) {
                continue
            } else {
                return nil
            }
        }
        guard !digits.isEmpty else { return nil }

        let e164Digits: String?
        if sawPlus {
            e164Digits = Self.international(digits)
        } else if digits.hasPrefix("00") {
            e164Digits = Self.international(String(digits.dropFirst(2)))
        } else {
            e164Digits = Self.national(digits, region: defaultRegion.uppercased())
        }
        guard let result = e164Digits, (8...15).contains(result.count), !result.hasPrefix("0") else { return nil }
        return "+" + result
    }

    /// Unicode NFKC, trimmed, runs of inner whitespace (incl. full-width space U+3000, tabs, newlines) collapsed to one ASCII space; nil if empty.
    ///
    /// Letter case is kept. Zero-width spaces and byte order marks are removed.
    ///
    /// - Parameter raw: The name as submitted.
    /// - Returns: The normalized name, or `nil`.
    public static func name(_ raw: String?) -> String? {
        guard let cleaned = Self.clean(raw) else { return nil }
        let words = cleaned.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        let joined = words.joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }

    /// Free text (company, address, message): trimmed, NFKC, nil if empty; inner newlines kept for message.
    ///
    /// Inner whitespace is left as it was, so line breaks in a message survive. Zero-width spaces and byte
    /// order marks are removed.
    ///
    /// - Parameter raw: The text as submitted.
    /// - Returns: The normalized text, or `nil`.
    public static func text(_ raw: String?) -> String? {
        Self.clean(raw)
    }

    // MARK: Shared cleaning

    /// NFKC, drop zero-width spaces and BOMs, trim whitespace (NFKC has already made U+3000 a plain space).
    private static func clean(_ raw: String?) -> String? {
        guard let raw else { return nil }
        var text = Self.isNFKCStable(raw) ? raw : raw.precomposedStringWithCompatibilityMapping
        if text.unicodeScalars.contains(where: { $0 == "\u{200B}" || $0 == "\u{FEFF}" }) {
            text.unicodeScalars.removeAll(where: { $0 == "\u{200B}" || $0 == "\u{FEFF}" })
        }
        // Foundation's trimming bridges to NSString; this is on every field of every record and candidate.
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isWhitespace($0) }) else { return nil }
        let last = scalars.lastIndex(where: { !Self.isWhitespace($0) })!
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }

    /// Unicode White_Space, answered without the property tables for ASCII and CJK ideographs.
    @inline(__always)
    static func isWhitespace(_ u: Unicode.Scalar) -> Bool {
        if u.value < 0x80 { return u == " " || (0x09...0x0D).contains(u.value) }
        if (0x3400...0x9FFF).contains(u.value) { return false }
        return u.properties.isWhitespace
    }

    /// True when NFKC cannot change the text: printable ASCII and the main CJK ideograph blocks only.
    /// Foundation's NFKC costs microseconds a call and most names, companies and addresses need none.
    static func isNFKCStable(_ text: String) -> Bool {
        for u in text.utf8 where u >= 0x80 {
            return text.unicodeScalars.allSatisfy { s in
                (0x20...0x7E).contains(s.value) || (0x4E00...0x9FFF).contains(s.value) || (0x3400...0x4DBF).contains(s.value)
            }
        }
        return text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    private static func isSpaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value <= 0x20 || scalar.value == 0x7F }
        return scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
    }

    // MARK: Phone helpers

    private static func isPhoneSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "-", ".", "(", ")", "/", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}", "\u{00B7}", "\u{30FB}":
            return true
        default:
            return scalar.properties.isWhitespace
        }
    }

    /// Removes a trailing extension such as " ext. 12", "x12", "转12", "分机 12" or "#12".
    private static func droppingExtension(_ text: String) -> String {
        let original = Array(text.unicodeScalars)
        let lowered = Array(text.lowercased().unicodeScalars)
        // Offsets below index both arrays; give up on the rare letters whose lowercase has another length.
        guard lowered.count == original.count else { return text }
        var end = lowered.count
        while end > 0, lowered[end - 1].properties.isWhitespace { end -= 1 }
        var digitStart = end
        while digitStart > 0, ("0"..."9").contains(lowered[digitStart - 1]) { digitStart -= 1 }
        guard (1...6).contains(end - digitStart) else { return text }
        var markerEnd = digitStart
        while markerEnd > 0, lowered[markerEnd - 1].properties.isWhitespace || lowered[markerEnd - 1] == ":" {
            markerEnd -= 1
        }
        let head = String(String.UnicodeScalarView(lowered[..<markerEnd]))
        for marker in Self.extensionMarkers where head.hasSuffix(marker) {
            let kept = String(String.UnicodeScalarView(original[..<(markerEnd - marker.unicodeScalars.count)]))
            // Something number-like must remain in front of the marker.
            return kept.contains(where: \.isNumber) ? kept : text
        }
        return text
    }

    private static let extensionMarkers = ["extension", "ext.", "ext", "x", "转", "分机", "#"]

    /// One calling-code entry: how national numbers of that country are written.
    private struct Region: Sendable {
        var callingCode: String
        /// Prefix dialled before national numbers inside the country ("0" in most, "1" in NANP), if any.
        var trunkPrefix: String?
        /// Valid lengths of the national significant number (after the trunk prefix is removed).
        var nationalLengths: ClosedRange<Int>
    }

    private static let regions: [String: Region] = [
        "CN": Region(callingCode: "86", trunkPrefix: "0", nationalLengths: 9...11),
        "HK": Region(callingCode: "852", trunkPrefix: nil, nationalLengths: 8...8),
        "MO": Region(callingCode: "853", trunkPrefix: nil, nationalLengths: 8...8),
        "TW": Region(callingCode: "886", trunkPrefix: "0", nationalLengths: 8...9),
        "US": Region(callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10),
        "CA": Region(callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10),
        "GB": Region(callingCode: "44", trunkPrefix: "0", nationalLengths: 9...10),
        "SG": Region(callingCode: "65", trunkPrefix: nil, nationalLengths: 8...8),
        "JP": Region(callingCode: "81", trunkPrefix: "0", nationalLengths: 9...10),
        "KR": Region(callingCode: "82", trunkPrefix: "0", nationalLengths: 8...10),
        "DE": Region(callingCode: "49", trunkPrefix: "0", nationalLengths: 6...13),
        "AU": Region(callingCode: "61", trunkPrefix: "0", nationalLengths: 9...9),
    ]

    /// Regions keyed by calling code (US stands for the shared NANP code 1).
    private static let regionsByCallingCode: [String: Region] = {
        var result: [String: Region] = [:]
        for key in Self.regions.keys.sorted() where key != "CA" {
            let region = Self.regions[key]!
            result[region.callingCode] = region
        }
        return result
    }()

    /// `digits` starts with a calling code (the "+" or "00" already removed). Returns E.164 digits.
    private static func international(_ digits: String) -> String? {
        guard let first = digits.first, first != "0" else { return nil }
        for length in 1...3 where digits.count > length {
            let code = String(digits.prefix(length))
            guard let region = Self.regionsByCallingCode[code] else { continue }
            var national = String(digits.dropFirst(length))
            // "+44 (0)20 …", "+86 010 …": drop a trunk 0 written after the calling code.
            if region.trunkPrefix == "0", national.hasPrefix("0") {
                national.removeFirst()
            }
            guard Self.isValidNational(national, region: region) else { return nil }
            return code + national
        }
        return digits
    }

    /// `digits` is written the national way for `region`. Returns E.164 digits.
    private static func national(_ digits: String, region regionCode: String) -> String? {
        guard let region = Self.regions[regionCode] else { return nil }
        var national = digits
        if regionCode == "CN", national.count == 13, national.hasPrefix("86"), Self.isCNMobile(String(national.dropFirst(2))) {
            // "8613800138000": calling code without the plus.
            national.removeFirst(2)
        } else if let trunk = region.trunkPrefix, national.hasPrefix(trunk),
            !Self.isValidNational(national, region: region) || trunk == "0"
        {
            national.removeFirst(trunk.count)
        }
        guard Self.isValidNational(national, region: region) else { return nil }
        return region.callingCode + national
    }

    private static func isValidNational(_ national: String, region: Region) -> Bool {
        guard region.nationalLengths.contains(national.count), !national.hasPrefix("0") else { return false }
        if region.callingCode == "86" {
            return Self.isCNMobile(national) || Self.isCNLandline(national)
        }
        return true
    }

    private static func isCNMobile(_ national: String) -> Bool {
        let scalars = Array(national.utf8)
        return scalars.count == 11 && scalars[0] == UInt8(ascii: "1") && (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(scalars[1])
    }

    /// Area code + subscriber number, trunk 0 already removed.
    private static func isCNLandline(_ national: String) -> Bool {
        let bytes = Array(national.utf8)
        guard let first = bytes.first else { return false }
        switch first {
        case UInt8(ascii: "1"):
            // Only Beijing (10) among 1x; 1[3-9] is mobile, handled separately.
            return bytes.count >= 2 && bytes[1] == UInt8(ascii: "0") && (9...10).contains(bytes.count)
        case UInt8(ascii: "2"):
            return (9...10).contains(bytes.count)
        case UInt8(ascii: "3")...UInt8(ascii: "9"):
            return (10...11).contains(bytes.count)
        default:
            return false
        }
    }
}
