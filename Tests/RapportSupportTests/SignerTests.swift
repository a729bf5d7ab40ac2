import Foundation
import RapportSupport
import Testing

struct SignerTests {
    @Test func aKeyFileSaysItsAlgorithmAndAMissingOneIsMadeAsAsked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-signer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sm2Path = dir.appendingPathComponent("sm2.key").path, edPath = dir.appendingPathComponent("ed.key").path
        let (made, created) = try Signer.load(path: sm2Path, create: true, algorithm: .sm2)
        #expect(created && made.algorithm == .sm2)
        let (ed, _) = try Signer.load(path: edPath, create: true)
        #expect(ed.algorithm == .ed25519)
        // Read back: the file, not the argument, decides.
        let again = try Signer.load(path: sm2Path, create: false, algorithm: .ed25519).signer
        #expect(again.algorithm == .sm2 && again.verifier == made.verifier)
        #expect(try Signer.load(path: edPath, create: false, algorithm: .sm2).signer.verifier == ed.verifier)
        let attributes = try FileManager.default.attributesOfItem(atPath: sm2Path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(throws: (any Error).self) { try Signer.load(path: dir.appendingPathComponent("none").path, create: false) }
        let message = Array("checkpoint".utf8)
        #expect(made.verifier.isValid(made.sign(message), for: message))
        #expect(!made.verifier.isValid(made.sign(message), for: Array("checkpoinT".utf8)))
        #expect(!made.verifier.isValid("sm2:not base64!", for: message))
    }
}
