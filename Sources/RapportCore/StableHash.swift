/// Hashes that are the same in every process and every run, unlike `Hasher`, which is randomly seeded.
public enum StableHash {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64-bit of the UTF-8 bytes, as Int64 bit pattern (used for pg advisory lock keys; must be stable across processes and runs)
    ///
    /// The string is hashed as is: callers that want `"A"` and `"a"` to collide must normalize first.
    ///
    /// - Parameter string: The key to hash.
    /// - Returns: The 64-bit FNV-1a hash reinterpreted as a signed integer (PostgreSQL `bigint`).
    public static func fnv1a64(_ string: String) -> Int64 {
        var hash = Self.offsetBasis
        for byte in string.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* Self.prime
        }
        return Int64(bitPattern: hash)
    }
}
