import ArgumentParser
import Foundation
import RapportPostgres
import RapportServices
import RapportStore
import RapportSupport

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Envelope encryption: make the KEK file, show key status, rotate the KEK, rebuild the blind indexes, destroy every key.",
        subcommands: [Init.self, Status.self, Rotate.self, Reindex.self, Destroy.self])

    /// The settings' keyring, checked against the database, and the connection (the caller closes it).
    static func attached(_ settings: RapportSettings) throws -> (Keyring, PGConnection) {
        guard let keyring = try settings.keyring() else { throw CLIError("encryption is off") }
        let db = try PGConnection(settings.postgresURL)
        do { try keyring.attach(db: db) } catch {
            db.close()
            throw error
        }
        return (keyring, db)
    }

    /// The KEK file the settings name, or an error saying how to name one.
    static func kekFile(_ settings: RapportSettings) throws -> String {
        guard let f = settings.kekFile else { throw CLIError("no kek_file in the settings (RAPPORT_KEK_FILE)") }
        return f
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the KEK file (mode 0600) if there is none; prints its path and key id, never the key.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Where (default: kek_file from the settings).") var file: String?
        @Option(help: "aes-256-gcm or sm4-ctr-hmac-sm3.") var suite: String?

        func run() throws {
            let settings = try self.global.settings()
            let path = try self.file ?? KeysCommand.kekFile(settings)
            if FileManager.default.fileExists(atPath: path) {
                let keys = try KeyEncryptionKey.load(path: path)
                print("KEK file \(path) exists: \(keys.map(\.id).joined(separator: ", "))")
                return
            }
            guard let suite = CipherSuite(name: self.suite ?? settings.cipherSuite) else { throw CLIError("unknown suite \(self.suite ?? settings.cipherSuite)") }
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
            let kek = KeyEncryptionKey.generate(suite: suite)
            try KeyEncryptionKey.save([kek], path: path)
            print("created KEK \(kek.id) (\(suite.name)) in \(path): keep it off the database host's backups")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "KEKs the database knows, which is current, and how many data keys each wraps.")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let settings = try self.global.settings()
            let (keyring, db) = try KeysCommand.attached(settings)
            defer { db.close() }
            for s in try KeyAdmin(db: db, keyring: keyring).status() {
                let state = s.current ? "current" : s.retired ? "retired" : "old"
                print("\(s.kek)  \(state)  \(s.dataKeys) data keys  \(keyring.kek(s.kek) == nil ? "NOT in the KEK file" : "in the KEK file")")
            }
            let index = try keyring.blindIndex(db: db)
            print("blind index: version \(index.version), " + (index.isPlain ? "plaintext keys (run `rapport keys reindex`)" : "HMAC-\(index.digest.rawValue.uppercased())"))
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new KEK to the KEK file and re-wrap every data key under it, online (batched, resumable, with progress).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Data keys per transaction.") var batch = 1000
        @Option(help: "Suite of the new KEK (default: cipher_suite).") var suite: String?
        @Flag(help: "Remove the old KEKs from the file afterwards (backups taken before the rotation then need a copy of the old file).")
        var dropOld = false

        func run() throws {
            let settings = try self.global.settings()
            let path = try KeysCommand.kekFile(settings)
            let (keyring, db) = try KeysCommand.attached(settings)
            defer { db.close() }
            let admin = KeyAdmin(db: db, keyring: keyring)
            let status = try admin.status()
            // Resume: the database already names a KEK of the file as current and old ones still wrap keys.
            let current = status.first(where: \.current)
            let new: KeyEncryptionKey
            if let c = current, status.contains(where: { !$0.current && !$0.retired && $0.dataKeys > 0 }), let k = keyring.kek(c.kek) {
                new = k
                print("resuming the rotation to \(new.id)")
            } else {
                guard let suite = CipherSuite(name: self.suite ?? settings.cipherSuite) else { throw CLIError("unknown suite") }
                new = KeyEncryptionKey.generate(suite: suite)
                // The file first: a worker that meets the new id reads the file again.
                try KeyEncryptionKey.save(try KeyEncryptionKey.load(path: path) + [new], path: path)
                print("added KEK \(new.id) (\(new.suite.name)) to \(path)")
            }
            let progress = Progress(label: "re-wrapping")
            let n = try admin.rotate(to: new, batch: self.batch, actor: cliActor) { done, left in progress.update(done, done + left) }
            print("rotated: \(n) data keys re-wrapped under \(new.id); old KEKs retired")
            if self.dropOld {
                try KeyEncryptionKey.save(try KeyEncryptionKey.load(path: path).filter { $0.id == new.id }, path: path)
                print("removed the old KEKs from \(path)")
            }
        }
    }

    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the blind indexes (identity and blocking keys) under a new index key; from plaintext keys on a database written before them. Ingest waits while it runs.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let settings = try self.global.settings()
            let (keyring, db) = try KeysCommand.attached(settings)
            defer { db.close() }
            let r = try KeyAdmin(db: db, keyring: keyring).reindex(actor: cliActor) { FileHandle.standardError.write(Data("  \($0)\n".utf8)) }
            for table in r.translated.keys.sorted() {
                print("\(table): \(r.translated[table]!) keys re-indexed, \(r.orphans[table] ?? 0) orphans removed")
            }
            print("blind index version \(r.version) is current")
        }
    }

    struct Destroy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy every data key and the KEK file: this database and every backup of it become unreadable (media being retired).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Every key (required).") var all = false
        @Option(help: "The database's name, typed, to confirm.") var confirm: String

        func run() throws {
            guard self.all else { throw CLIError("say --all: there is no partial destroy (use `rapport erase` for one person)") }
            let settings = try self.global.settings()
            let path = try KeysCommand.kekFile(settings)
            guard let keyring = try settings.keyring() else { throw CLIError("encryption is off") }
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            let n = try KeyAdmin(db: db, keyring: keyring).destroyAll(confirmation: self.confirm, actor: cliActor)
            // Overwrite, then remove: the KEK file is the one thing that opens the backups' wrapped keys.
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
               let h = FileHandle(forWritingAtPath: path) {
                try h.write(contentsOf: Data(RandomBytes.make(max(size, 64))))
                try h.synchronize()
                try h.close()
            }
            try FileManager.default.removeItem(atPath: path)
            print("destroyed \(n) data keys and the KEK file \(path); sealed data here and in every backup is unreadable")
        }
    }
}

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a lead, or a customer with its leads, for good: data keys destroyed, personal fields and indexes removed, a tombstone left, customer.erased published.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "A lead id.") var lead: String?
    @Option(help: "A customer id.") var customer: String?

    func run() throws {
        let settings = try self.global.settings()
        let (kind, text): (Erasure.Kind, String)
        switch (self.lead, self.customer) {
        case (let l?, nil): (kind, text) = (.lead, l)
        case (nil, let c?): (kind, text) = (.customer, c)
        default: throw CLIError("name exactly one of --lead and --customer")
        }
        guard let id = UUID(uuidString: text) else { throw CLIError("\(text) is not a UUID") }
        let db = try PGConnection(settings.postgresURL)
        defer { db.close() }
        let r = try Erasure(db: db).erase(kind, id, actor: cliActor)
        if let log = settings.eraseLogFile { try EraseLog.append(eraseID: r.eraseID, kind: kind, subject: id, path: log) }
        print("erased \(kind.rawValue) \(text): erase \(r.eraseID.uuidString.lowercased()), \(r.leads.count) leads, \(r.keysDestroyed) data keys destroyed")
        if let log = settings.eraseLogFile { print("logged in \(log) (re-applied by `rapport restore`)") } else {
            print("warning: no kek_file, so no erase log: a restored backup would not be erased again")
        }
    }
}
