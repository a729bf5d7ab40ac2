/// The 64-bit FNV-1a hash, used for migration checksums and advisory lock keys.
///
/// Stable across processes and platforms (unlike `Hasher`), which is what both uses need.
internal enum FNV1a {
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The hash as 16 lowercase hex digits.
    static func hex(_ text: String) -> String {
        let digits = String(Self.hash(text), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
