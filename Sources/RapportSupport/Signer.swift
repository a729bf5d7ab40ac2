import Foundation

/// A signing key of either suite, so what signs (audit checkpoints) is chosen by key, not by code:
/// Ed25519 (the default suite) or SM2 with SM3 (the 国密 suite). Every signature names its algorithm
/// (`ed25519:<base64>`, `sm2:<base64 DER>`), so both verify side by side during a move between suites.
public enum Signer: Sendable {
    case ed25519(Ed25519.PrivateKey)
    case sm2(SM2.PrivateKey)

    public enum Algorithm: String, Sendable, CaseIterable {
        case ed25519
        case sm2
    }

    public var algorithm: Algorithm {
        switch self {
        case .ed25519: .ed25519
        case .sm2: .sm2
        }
    }

    /// `algorithm:base64` over `message`.
    public func sign(_ message: [UInt8]) -> String {
        let raw: [UInt8]
        switch self {
        case .ed25519(let k): raw = k.signature(for: message)
        case .sm2(let k): raw = k.signature(for: message)
        }
        return self.algorithm.rawValue + ":" + Data(raw).base64EncodedString()
    }

    public var verifier: Verifier {
        switch self {
        case .ed25519(let k): .ed25519(k.publicKey)
        case .sm2(let k): .sm2(k.publicKey)
        }
    }

    /// The key in `path`: an SM2 key as PEM, else an Ed25519 hex seed. When there is none and `create`,
    /// a new `algorithm` key is written there (0600).
    public static func load(path: String, create: Bool, algorithm: Algorithm = .ed25519) throws -> (signer: Signer, created: Bool) {
        let exists = FileManager.default.fileExists(atPath: path)
        let pem = exists && (FileManager.default.contents(atPath: path).map { String(decoding: $0.prefix(11), as: UTF8.self) } == "-----BEGIN ")
        if pem || (!exists && algorithm == .sm2) {
            let (k, created) = try SM2.PrivateKey.load(path: path, create: create)
            return (.sm2(k), created)
        }
        let (k, created) = try Ed25519.PrivateKey.load(path: path, create: create)
        return (.ed25519(k), created)
    }
}

/// The public half of a ``Signer``.
public enum Verifier: Sendable, Hashable, CustomStringConvertible {
    case ed25519(Ed25519.PublicKey)
    case sm2(SM2.PublicKey)

    /// Whether `signature` (`algorithm:base64`) is this key's over `message`; another algorithm's is not.
    public func isValid(_ signature: String, for message: [UInt8]) -> Bool {
        let parts = signature.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let raw = Data(base64Encoded: String(parts[1])) else { return false }
        switch (self, parts[0]) {
        case (.ed25519(let k), "ed25519"): return k.isValidSignature(Array(raw), for: message)
        case (.sm2(let k), "sm2"): return k.isValidSignature(Array(raw), for: message)
        default: return false
        }
    }

    public var algorithm: Signer.Algorithm {
        switch self {
        case .ed25519: .ed25519
        case .sm2: .sm2
        }
    }

    /// The key's bytes: Ed25519's 32 raw bytes, SM2's DER SubjectPublicKeyInfo.
    public var bytes: [UInt8] {
        switch self {
        case .ed25519(let k): k.rawRepresentation
        case .sm2(let k): k.der
        }
    }

    /// The key from its algorithm and ``bytes``.
    public init(algorithm: Signer.Algorithm, bytes: [UInt8]) throws(CryptoError) {
        switch algorithm {
        case .ed25519: self = .ed25519(try Ed25519.PublicKey(rawRepresentation: bytes))
        case .sm2: self = .sm2(try SM2.PublicKey(der: bytes))
        }
    }

    /// `ed25519:<hex raw key>` or `sm2:<hex DER>`, as `rapport audit verify --public-key` takes it.
    public var description: String {
        switch self {
        case .ed25519(let k): "ed25519:" + Hex.encode(k.rawRepresentation)
        case .sm2(let k): "sm2:" + Hex.encode(k.der)
        }
    }

    /// From ``description``'s form; bare hex is an Ed25519 key (the form before SM2).
    public init(text: String) throws(CryptoError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let (algorithm, hex) = parts.count == 2 ? (parts[0], parts[1]) : ("ed25519", text)
        guard let raw = Hex.decode(hex) else { throw CryptoError("a public key is hex, optionally after ed25519: or sm2:") }
        guard let a = Signer.Algorithm(rawValue: algorithm) else { throw CryptoError("unknown signature algorithm \(algorithm) (ed25519 or sm2)") }
        try self.init(algorithm: a, bytes: raw)
    }
}
