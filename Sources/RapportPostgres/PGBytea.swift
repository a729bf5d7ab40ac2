import RapportSupport

/// `bytea` text formatting and parsing.
internal enum PGBytea {
    /// The hex format: `\x` followed by two lowercase hex digits per byte.
    static func format(_ bytes: some Collection<UInt8>) -> String {
        "\\x" + Hex.encode(Array(bytes))
    }

    /// Parses the hex format (`\x0a1b`), or the escape format (`\\` and `\ooo` octal escapes)
    /// used when `bytea_output` is `escape`.
    static func parse(_ text: String) throws -> [UInt8] {
        let bytes = Array(text.utf8)
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x") {
            var result: [UInt8] = []
            result.reserveCapacity((bytes.count - 2) / 2)
            var index = 2
            while index < bytes.count {
                // PostgreSQL allows whitespace between digit pairs on input; accept it here too.
                if bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x09 || bytes[index] == 0x0D {
                    index += 1
                    continue
                }
                guard index + 1 < bytes.count, let high = Self.hexValue(bytes[index]), let low = Self.hexValue(bytes[index + 1]) else {
                    throw PGError.unparsable(text, as: [UInt8].self).appendingReason("bad hex digits")
                }
                result.append(high << 4 | low)
                index += 2
            }
            return result
        }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                index += 1
                continue
            }
            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\") {
                result.append(byte)
                index += 2
            } else if index + 3 < bytes.count,
                let a = Self.octalValue(bytes[index + 1]), a <= 3,
                let b = Self.octalValue(bytes[index + 2]),
                let c = Self.octalValue(bytes[index + 3])
            {
                result.append(a << 6 | b << 3 | c)
                index += 4
            } else {
                throw PGError.unparsable(text, as: [UInt8].self).appendingReason("bad escape")
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func octalValue(_ byte: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }
}
