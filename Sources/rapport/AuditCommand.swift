import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportServices
import RapportStore
import RapportSupport

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The tamper-evident audit chain: check it, or list a record's history.",
        subcommands: [Verify.self, Show.self, Checkpoint.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash the whole chain; names the first edited, inserted or deleted row. Exit 1 when broken.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A file of signed checkpoints (audit_checkpoint_file): also catches a cut-off tail.") var checkpoints: String?
        @Option(help: "The checkpoint key's public half: ed25519:HEX, sm2:HEX (DER) or bare Ed25519 hex (default: derived from audit_key_file).")
        var publicKey: String?

        func run() throws {
            let settings = try self.global.settings()
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            if let file = self.checkpoints {
                let key: Verifier
                if let text = self.publicKey {
                    do { key = try Verifier(text: text) } catch { throw CLIError("--public-key: \(error)") }
                } else {
                    guard let path = settings.auditKeyFile else { throw CLIError("--checkpoints needs --public-key or audit_key_file") }
                    key = try Signer.load(path: path, create: false).signer.verifier
                }
                let list = try AuditCheckpointer.read(file)
                if let b = try AuditLog(db: db).verify(checkpoints: list, key: key) {
                    print("BROKEN at \(b) (checked against \(file))")
                    throw ExitCode(1)
                }
                print("\(list.count) checkpoints hold (\(file))")
            }
            let progress = Progress(label: "verifying")
            let total: Int = try db.query("select count(*)::int8 as n from audit_log").first?.decode("n") ?? 0
            let r = try AuditLog(db: db).verify { progress.update(Int($0), total) }
            if let b = r.break {
                print("BROKEN at \(b): \(r.checked) rows before it hold")
                throw ExitCode(1)
            }
            print("intact: \(r.checked) rows" + (r.lastSeq.map { ", last sequence \($0), hash \(r.lastHash ?? "")" } ?? ""))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every audit entry naming a record (an id, a message:ID, a source or key id).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The record.") var target: String

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            for e in try AuditLog(db: db).history(target: self.target) {
                print([String(e.seq), e.at, e.actor, e.action, e.targets.joined(separator: ","), e.detail].joined(separator: "\t"))
            }
        }
    }

    struct Checkpoint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the chain's head now: appended to audit_checkpoint_file and published as audit.checkpoint.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The signing key (an Ed25519 hex seed or an SM2 PEM key); made (0600) when missing, SM2 under the 国密 cipher_suite. Default: audit_key_file.")
        var key: String?
        @Option(help: "The checkpoint file. Default: audit_checkpoint_file.") var out: String?

        func run() throws {
            let settings = try self.global.settings()
            guard let path = self.key ?? settings.auditKeyFile else { throw CLIError("--key FILE or audit_key_file") }
            let suite = CipherSuite(name: settings.cipherSuite) ?? .aes256gcm
            let (key, created) = try Signer.load(path: path, create: true, algorithm: suite == .sm4ctrHMACSM3 ? .sm2 : .ed25519)
            if created { print("made the checkpoint key \(path) (public \(key.verifier))") }
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            guard let c = try db.transaction({ try AuditLog(db: db).checkpoint(key: key) }) else { print("the chain is empty"); return }
            let file = self.out ?? settings.auditCheckpointFile
            try AuditCheckpointer.append(c, to: file)
            print("checkpoint at sequence \(c.seq), hash \(c.hash), appended to \(file)")
        }
    }
}
