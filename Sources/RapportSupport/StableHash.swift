/// Hashes that are the same in every process and every run, unlike `Hasher`, which is randomly seeded:
/// PostgreSQL advisory lock keys, migration checksums and demo data depend on that.
public enum StableHash {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64-bit of the UTF-8 bytes.
    ///
    /// The string is hashed as is: callers that want `"A"` and `"a"` to collide must normalize first.
    public static func fnv1a(_ string: String) -> UInt64 {
        var hash = Self.offsetBasis
        for byte in string.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* Self.prime
        }
        return hash
    }

    /// ``fnv1a(_:)`` as an `Int64` bit pattern (a PostgreSQL `bigint`, e.g. an advisory lock key).
    public static func fnv1a64(_ string: String) -> Int64 { Int64(bitPattern: Self.fnv1a(string)) }

    /// ``fnv1a(_:)`` as 16 lowercase hex digits.
    public static func fnv1aHex(_ string: String) -> String {
        let digits = String(Self.fnv1a(string), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
