import Foundation
import RapportSupport

/// Signed inbound messages: the canonical bytes an upstream signs with its Ed25519 key (or SM2 with SM3,
/// the 国密 suite: the key registered for it says which), and the checks
/// a worker makes before it trusts a message (issue 12). The canonical form is ten lines joined by `\n`,
/// no trailing newline:
///
/// ```
/// rapport-sig-v1
/// ed25519             or sm2: the signature's algorithm
/// <key id>
/// <source>            the broker-validated user_id
/// <exchange>
/// <routing key>
/// <message id>
/// <signed-at>         milliseconds since 1970, the x-rapport-signed-at header
/// <content type>
/// <sha-256 of the body, lowercase hex>
/// ```
///
/// Headers: `x-rapport-signature: ed25519:<base64 of the 64-byte signature>` (or `sm2:<base64 DER>`),
/// `x-rapport-key-id`, `x-rapport-signed-at`. The scheme is named in the signature header and in the
/// signed bytes, so both suites verify side by side. `ops/examples/sign_message.py` signs the same way.
public enum MessageSignature {
    public static let version = "rapport-sig-v1"
    public static let scheme = "ed25519"
    public static let signatureHeader = "x-rapport-signature"
    public static let keyIDHeader = "x-rapport-key-id"
    public static let signedAtHeader = "x-rapport-signed-at"

    /// What a signature covers.
    public struct Signed: Sendable, Hashable {
        public var keyID: String
        public var source: String
        public var exchange: String
        public var routingKey: String
        public var messageID: String
        public var signedAtMillis: Int64
        public var contentType: String
        /// The body's SHA-256 in lowercase hex: the body is covered through its hash, so a stored message
        /// can be checked again from its ledger row.
        public var bodySHA256: String

        public init(keyID: String, source: String, exchange: String, routingKey: String, messageID: String, signedAtMillis: Int64,
                    contentType: String, bodySHA256: String) {
            self.keyID = keyID
            self.source = source
            self.exchange = exchange
            self.routingKey = routingKey
            self.messageID = messageID
            self.signedAtMillis = signedAtMillis
            self.contentType = contentType
            self.bodySHA256 = bodySHA256
        }

        public init(keyID: String, source: String, exchange: String, routingKey: String, messageID: String, signedAtMillis: Int64,
                    contentType: String, body: [UInt8]) {
            self.init(keyID: keyID, source: source, exchange: exchange, routingKey: routingKey, messageID: messageID,
                      signedAtMillis: signedAtMillis, contentType: contentType, bodySHA256: SHA256.hex(body))
        }

        /// The canonical bytes for Ed25519; `nil` when a field holds a line break (it would make two forms alike).
        public var canonical: [UInt8]? { self.canonical(.ed25519) }

        /// The canonical bytes for a signature by `algorithm`.
        public func canonical(_ algorithm: Signer.Algorithm) -> [UInt8]? {
            let lines = [MessageSignature.version, algorithm.rawValue, self.keyID, self.source, self.exchange, self.routingKey,
                         self.messageID, String(self.signedAtMillis), self.contentType, self.bodySHA256]
            guard !lines.contains(where: { $0.contains(where: \.isNewline) }) else { return nil }
            return Array(lines.joined(separator: "\n").utf8)
        }
    }

    /// The `x-rapport-signature` value for `signed` under `key`.
    public static func sign(_ signed: Signed, with key: Signer) -> String? {
        signed.canonical(key.algorithm).map(key.sign)
    }

    public static func sign(_ signed: Signed, with key: Ed25519.PrivateKey) -> String? { Self.sign(signed, with: .ed25519(key)) }
}

/// An upstream in the source registry: authenticated by its broker login, and perhaps bound to sign.
public struct RegisteredSource: Sendable, Hashable {
    public var name: String
    public var mustSign: Bool

    public init(name: String, mustSign: Bool) {
        self.name = name
        self.mustSign = mustSign
    }

    /// A source's name is its broker user and the end of its routing keys, and goes into permission
    /// regexes unescaped: ASCII letters, digits, `-` and `_`, at most 64.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
        }
    }
}

/// A source's signing key as the registry holds it.
public struct SigningKey: Sendable, Hashable {
    public var keyID: String
    public var source: String
    /// Ed25519, or SM2 (the 国密 suite): its signatures must name the same algorithm.
    public var publicKey: Verifier
    /// Signatures made from then on are accepted.
    public var validFrom: Date
    /// Set by a rotation: the old key is accepted until then (the overlap), and refused after.
    public var retiresAt: Date?
    /// Set by a revocation: nothing signed with the key is accepted any more.
    public var revokedAt: Date?

    public init(keyID: String, source: String, publicKey: Ed25519.PublicKey, validFrom: Date, retiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.init(keyID: keyID, source: source, publicKey: .ed25519(publicKey), validFrom: validFrom, retiresAt: retiresAt, revokedAt: revokedAt)
    }

    public init(keyID: String, source: String, publicKey: Verifier, validFrom: Date, retiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.keyID = keyID
        self.source = source
        self.publicKey = publicKey
        self.validFrom = validFrom
        self.retiresAt = retiresAt
        self.revokedAt = revokedAt
    }
}

/// The checks on a message from a source that must sign. The replay check (a message id already accepted
/// with another body) needs the ledger and is the store's.
public struct SignatureVerifier: Sendable {
    /// How old (or, with clock skew, how far ahead) a signature may be: the longest a message waits in
    /// its queue plus the skew between clocks. Defaults to 15 minutes.
    public var window: TimeInterval

    public init(window: TimeInterval = 15 * 60) {
        self.window = window
    }

    /// What a valid signature establishes, to store with the ledger row.
    public struct Verified: Sendable, Hashable {
        public var keyID: String
        public var signature: String
        public var signedAt: Date
        public var signedAtMillis: Int64
    }

    /// Checks the signature headers of a message from `source` against the registry (`key(id)`).
    public func verify(source: String, exchange: String, routingKey: String, messageID: String, contentType: String, body: [UInt8],
                       headers: [String: String], now: Date, key: (String) -> SigningKey?) -> Result<Verified, InboundRejection> {
        self.verify(source: source, exchange: exchange, routingKey: routingKey, messageID: messageID, contentType: contentType,
                    bodySHA256: SHA256.hex(body), headers: headers, now: now, key: key)
    }

    /// ``verify(source:exchange:routingKey:messageID:contentType:body:headers:now:key:)`` with the body's hash.
    public func verify(source: String, exchange: String, routingKey: String, messageID: String, contentType: String, bodySHA256: String,
                       headers: [String: String], now: Date, key: (String) -> SigningKey?) -> Result<Verified, InboundRejection> {
        func refuse(_ code: RejectionCode, _ reason: String, _ field: String) -> Result<Verified, InboundRejection> {
            .failure(InboundRejection(code: code, reason: reason, field: field))
        }
        guard let header = headers[MessageSignature.signatureHeader], let keyID = headers[MessageSignature.keyIDHeader],
              let signedAtText = headers[MessageSignature.signedAtHeader] else {
            return refuse(.unsigned, "Source \(source) must sign its messages: \(MessageSignature.signatureHeader), \(MessageSignature.keyIDHeader) and \(MessageSignature.signedAtHeader) are required.",
                          MessageSignature.signatureHeader)
        }
        guard let registered = key(keyID), registered.source == source else {
            return refuse(.unknownKey, "No key \(keyID) is registered for source \(source).", MessageSignature.keyIDHeader)
        }
        guard let millis = Int64(signedAtText) else {
            return refuse(.badSignature, "\(MessageSignature.signedAtHeader) is milliseconds since 1970.", MessageSignature.signedAtHeader)
        }
        let signedAt = Date(timeIntervalSince1970: Double(millis) / 1000)
        if let revoked = registered.revokedAt, revoked <= now {
            return refuse(.revokedKey, "Key \(keyID) of \(source) was revoked at \(ISO8601.string(revoked)).", MessageSignature.keyIDHeader)
        }
        if let retires = registered.retiresAt, signedAt > retires || now > retires.addingTimeInterval(self.window) {
            return refuse(.revokedKey, "Key \(keyID) of \(source) was rotated out at \(ISO8601.string(retires)).", MessageSignature.keyIDHeader)
        }
        let algorithm = registered.publicKey.algorithm.rawValue
        let parts = header.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == algorithm, Data(base64Encoded: parts[1]) != nil else {
            return refuse(.badSignature, "\(MessageSignature.signatureHeader) is \(algorithm):<base64> for key \(keyID).", MessageSignature.signatureHeader)
        }
        let signed = MessageSignature.Signed(keyID: keyID, source: source, exchange: exchange, routingKey: routingKey, messageID: messageID,
                                             signedAtMillis: millis, contentType: contentType, bodySHA256: bodySHA256)
        guard let canonical = signed.canonical(registered.publicKey.algorithm), registered.publicKey.isValid(header, for: canonical) else {
            return refuse(.badSignature, "The signature does not match the message (body, routing key, message id, time or key).",
                          MessageSignature.signatureHeader)
        }
        // Checked after the signature, so a forged time cannot pass as merely stale.
        guard abs(now.timeIntervalSince(signedAt)) <= self.window, signedAt >= registered.validFrom.addingTimeInterval(-self.window) else {
            return refuse(.stale, "Signed at \(ISO8601.string(signedAt)), outside the \(Int(self.window)) s window around \(ISO8601.string(now)).",
                          MessageSignature.signedAtHeader)
        }
        return .success(Verified(keyID: keyID, signature: header, signedAt: signedAt, signedAtMillis: millis))
    }
}

extension RejectionCode {
    /// A source that must sign sent a message without a signature.
    public static let unsigned = RejectionCode(rawValue: "unsigned")
    /// The key id is not registered for the message's source.
    public static let unknownKey = RejectionCode(rawValue: "unknown_key")
    /// The key was revoked, or rotated out past its overlap.
    public static let revokedKey = RejectionCode(rawValue: "revoked_key")
    /// The signature does not verify: forged, or the body, routing key or message id changed after signing.
    public static let badSignature = RejectionCode(rawValue: "bad_signature")
    /// Signed outside the accepted window (a replay of an old message, or a clock far off).
    public static let stale = RejectionCode(rawValue: "stale")
    /// A message id already accepted with another body.
    public static let replayed = RejectionCode(rawValue: "replayed")
    /// A message claims a registered source without the broker-validated `user_id` of that source.
    public static let unauthenticatedSource = RejectionCode(rawValue: "unauthenticated_source")
}
