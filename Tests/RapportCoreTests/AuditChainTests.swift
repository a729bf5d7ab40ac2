import Foundation
import RapportCore
import RapportSupport
import Testing

/// The chain's arithmetic: every kind of tampering breaks it at the row where it happened.
struct AuditChainTests {
    static func chain(_ n: Int) -> [AuditChain.Entry] {
        var out: [AuditChain.Entry] = []
        for i in 0..<n {
            out.append(AuditChain.next(after: out.last.map { ($0.seq, $0.hash) }, at: Date(timeIntervalSince1970: 1_790_000_000 + Double(i)),
                                       actor: "admin", action: "customer.change", targets: ["c-\(i)"], detail: "version \(i)"))
        }
        return out
    }

    @Test func anIntactChainHolds() {
        #expect(AuditChain.check(Self.chain(6)) == nil)
        #expect(Self.chain(1).first?.prevHash == AuditChain.genesis)
    }

    @Test func anEditedRowIsNamed() {
        var rows = Self.chain(6)
        rows[2].actor = "someone-else"
        #expect(AuditChain.check(rows)?.seq == 3)
        var detail = Self.chain(6)
        detail[4].detail += "\n"
        #expect(AuditChain.check(detail)?.seq == 5)
    }

    @Test func aDeletedRowIsNamed() {
        var rows = Self.chain(6)
        rows.remove(at: 3)
        let b = AuditChain.check(rows)
        #expect(b?.seq == 4 && b?.reason.contains("deleted") == true)
    }

    @Test func anInsertedOrRehashedRowIsNamed() {
        // A forger renumbers and re-hashes one row consistently: the next row still names the old hash.
        var rows = Self.chain(6)
        var forged = rows[2]
        forged.actor = "forger"
        forged.hash = forged.expectedHash
        rows[2] = forged
        #expect(AuditChain.check(rows)?.seq == 4)
        // A row appended at the end with a made-up previous hash.
        var tail = Self.chain(3)
        tail.append(AuditChain.next(after: (3, String(repeating: "f", count: 64)), at: Date(), actor: "x", action: "y", targets: [], detail: ""))
        #expect(AuditChain.check(tail)?.seq == 4)
    }

    @Test func fieldBoundsCannotBeShifted() {
        let a = AuditChain.Entry(seq: 1, at: "t", actor: "a,b", action: "c", targets: [], detail: "", prevHash: "", hash: "")
        let b = AuditChain.Entry(seq: 1, at: "t", actor: "a", action: "b,c", targets: [], detail: "", prevHash: "", hash: "")
        #expect(a.canonical != b.canonical)
    }

    @Test func aCheckpointVerifiesAndSurvivesItsFileForm() throws {
        let key = Ed25519.PrivateKey()
        let c = AuditChain.Checkpoint.sign(seq: 7, hash: String(repeating: "a", count: 64), now: Date(timeIntervalSince1970: 1_790_000_000), key: .ed25519(key))
        #expect(c.isValid(under: .ed25519(key.publicKey)))
        #expect(!c.isValid(under: .ed25519(Ed25519.PrivateKey().publicKey)))
        let back = try #require(AuditChain.Checkpoint(jsonLine: c.jsonLine))
        #expect(back == c && back.isValid(under: .ed25519(key.publicKey)))
        var moved = c
        moved.seq = 6
        #expect(!moved.isValid(under: .ed25519(key.publicKey)))
        #expect(AuditChain.Checkpoint(jsonLine: "{}") == nil)
    }

    @Test func anSM2CheckpointVerifiesUnderItsKeyOnlyAndNamesItsAlgorithm() throws {
        let sm2 = SM2.PrivateKey(), ed = Ed25519.PrivateKey()
        let c = AuditChain.Checkpoint.sign(seq: 9, hash: String(repeating: "b", count: 64), now: Date(timeIntervalSince1970: 1_790_000_000), key: .sm2(sm2))
        #expect(c.signature.hasPrefix("sm2:"))
        #expect(c.isValid(under: .sm2(sm2.publicKey)))
        #expect(!c.isValid(under: .sm2(SM2.PrivateKey().publicKey)))
        // An Ed25519 key never accepts an SM2 signature, nor the other way round: both read side by side.
        #expect(!c.isValid(under: .ed25519(ed.publicKey)))
        let e = AuditChain.Checkpoint.sign(seq: 9, hash: c.hash, now: Date(timeIntervalSince1970: 1_790_000_000), key: .ed25519(ed))
        #expect(!e.isValid(under: .sm2(sm2.publicKey)) && e.isValid(under: .ed25519(ed.publicKey)))
        // The public key's text form (what `audit verify --public-key` takes) round-trips.
        #expect(try Verifier(text: Signer.sm2(sm2).verifier.description) == .sm2(sm2.publicKey))
        #expect(try Verifier(text: Hex.encode(ed.publicKey.rawRepresentation)) == .ed25519(ed.publicKey))
        #expect(throws: CryptoError.self) { try Verifier(text: "rsa:00") }
    }
}
