import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportServices
import RapportStore
import RapportSupport

struct SourceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source", abstract: "The registry of upstream sources and their signing keys.",
        discussion: "A registered source's messages must carry user_id = its name (validated by the broker); with --must-sign also a signature (README, \"Signed messages\").",
        subcommands: [Add.self, Rotate.self, Revoke.self, List.self])

    /// Where a new key comes from: an upstream's own public key, or one made here with its private half
    /// written to a file for the upstream.
    struct KeyOptions: ParsableArguments {
        @Option(help: "The upstream's public key: Ed25519 as 64 hex digits (or ed25519:HEX), SM2 as sm2:HEX of its DER (it keeps the private key).")
        var publicKey: String?
        @Option(help: "Make a key pair here and write the private key (Ed25519 hex seed or SM2 PEM, mode 0600) to this file; a file already there is used as it is.")
        var keyOut: String?
        @Option(help: "The algorithm of a key made with --key-out: ed25519 or sm2 (the 国密 suite).") var algorithm = "ed25519"

        func key() throws -> Verifier? {
            if let text = self.publicKey {
                do { return try Verifier(text: text) } catch { throw CLIError("--public-key: \(error)") }
            }
            guard let path = self.keyOut else { return nil }
            guard let algorithm = Signer.Algorithm(rawValue: self.algorithm) else { throw CLIError("--algorithm: ed25519 or sm2") }
            // Never overwrite a key: a file already there is the key to register (running the set-up again is safe).
            do { return try Signer.load(path: path, create: true, algorithm: algorithm).signer.verifier } catch { throw CLIError("--key-out: \(error)") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a source (or change whether it must sign), with a first key.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The source's name: its broker user and the last part of its routing keys.") var name: String
        @Flag(inversion: .prefixedNo, help: "Its messages must be signed.") var mustSign = true
        @Option(help: "A note for the list.") var note: String?
        @OptionGroup var keys: KeyOptions

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let key = try self.keys.key()
            let existing = try SourceRegistry(db: db).list().first { $0.source.name == self.name }
            if self.mustSign && key == nil && (existing?.keys.isEmpty ?? true) {
                throw CLIError("a source that must sign needs a key: --public-key HEX or --key-out FILE")
            }
            let keyID = try SourceRegistry(db: db).add(self.name, mustSign: self.mustSign, note: self.note, publicKey: key)
            print("source \(self.name): must sign \(self.mustSign ? "yes" : "no")" + (keyID.map { ", key \($0)" } ?? ""))
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a source a new key; its old keys are accepted for an overlap, then refused.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "How long the old keys stay valid, in seconds (messages already signed and queued).") var overlap = 3600
        @OptionGroup var keys: KeyOptions

        func run() throws {
            guard let key = try self.keys.key() else { throw CLIError("a new key: --public-key HEX or --key-out FILE") }
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let keyID = try SourceRegistry(db: db).rotate(self.name, publicKey: key, overlap: TimeInterval(self.overlap))
            print("source \(self.name): new key \(keyID); older keys retire in \(self.overlap) s")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a key from now on (a leaked key).")
        @OptionGroup var global: GlobalOptions
        @Argument var keyID: String

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            try SourceRegistry(db: db).revoke(keyID: self.keyID)
            print("key \(self.keyID) revoked")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered source and its keys.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            let now = Date()
            for e in try SourceRegistry(db: db).list() {
                print("\(e.source.name)\tmust sign: \(e.source.mustSign ? "yes" : "no")" + (e.note.map { "\t\($0)" } ?? ""))
                for k in e.keys {
                    let state = k.revokedAt.map { $0 <= now } == true ? "revoked \(ISO8601.string(k.revokedAt!))"
                        : k.retiresAt.map { "\($0 <= now ? "retired" : "retires") \(ISO8601.string($0))" } ?? "active"
                    print("  \(k.keyID)\t\(state)\tpublic \(k.publicKey)")
                }
            }
        }
    }
}
