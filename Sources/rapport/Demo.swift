import ArgumentParser
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish demo web-form submissions (with duplicates and malformed ones) to rapport.inbound.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "How many distinct people.") var people = 250
    @Option(help: "How many submissions repeat an earlier person (other formatting).") var duplicates = 60
    @Option(help: "How many malformed messages.") var malformed = 12
    @Option(help: "Seed customers owned by reps, so some forms hit 撞单.") var customers = 5
    @Option(name: .customLong("run"), help: "Run id, part of every message id (same run id = same messages).") var runID = "demo"
    @Option(help: """
        Publish each site's forms as that site: its client certificate <DIR>/<site>.crt/.key (EXTERNAL login, user_id set) and, \
        when <DIR>/<site>.signing.key exists, signed with its registered key. Needs an amqps settings URL.
        """) var asSources: String?

    func run() throws {
        let settings = try self.global.settings()
        var msgs = DemoData.webForms(people: self.people, duplicates: self.duplicates, malformed: self.malformed, run: self.runID)
        let db = try PGConnection(settings.postgresURL)
        defer { db.close() }
        if self.customers > 0 {
            // Their keys are written blind under the database's index, as the workers write them.
            let keyring = try settings.keyring()
            try keyring?.attach(db: db)
            try DemoData.seedCustomers(self.customers, run: self.runID, db: db, keyring: keyring)
        }
        let amqp = try settings.amqpConfiguration(name: "rapport-demo")
        let conn = try AMQPConnection(configuration: amqp)
        defer { conn.close() }
        try conn.enableConfirms()
        var publishers: [String: (conn: AMQPConnection, key: (id: String, key: Signer)?)] = [:]
        defer { for p in publishers.values { p.conn.close() } }
        msgs.shuffle()
        let progress = Progress(label: "publishing")
        for (i, m) in msgs.enumerated() {
            var m = m, publisher = conn
            if let dir = self.asSources, let site = m.routingKey.split(separator: ".", maxSplits: 2).dropFirst(2).first.map(String.init),
               FileManager.default.fileExists(atPath: "\(dir)/\(site).crt") {
                if publishers[site] == nil { publishers[site] = try Self.publisher(site, dir: dir, amqp: amqp, db: db) }
                let p = publishers[site]!
                m = p.key.map { m.signed(as: site, key: $0.key, keyID: $0.id) } ?? m.published(as: site)
                publisher = p.conn
            }
            try publisher.publish(exchange: "rapport.inbound", routingKey: m.routingKey, body: m.body, properties: m.properties, mandatory: true)
            if (i + 1) % 100 == 0 || i + 1 == msgs.count {
                for c in [conn] + publishers.values.map(\.conn) {
                    let r = try c.waitForConfirms()
                    guard r.allConfirmed else { throw CLIError("broker did not accept every message: \(r.nacked.count) nacked, \(r.returned.count) unroutable") }
                }
                progress.update(i + 1, msgs.count)
            }
        }
        print("published \(msgs.count) messages: \(self.people) people, \(self.duplicates) repeats, \(self.malformed) malformed"
              + (publishers.isEmpty ? "" : "; \(publishers.keys.sorted().joined(separator: ", ")) as themselves, signed: \(publishers.values.allSatisfy { $0.key != nil } ? "yes" : "no")"))
    }

    /// A connection logged in as `site` by its certificate, and its newest live registered signing key.
    static func publisher(_ site: String, dir: String, amqp: AMQPConnection.Configuration, db: PGConnection) throws
        -> (conn: AMQPConnection, key: (id: String, key: Signer)?) {
        guard var tls = amqp.tls else { throw CLIError("--as-sources needs an amqps:// broker URL (TLS with client certificates)") }
        tls.certificatePath = "\(dir)/\(site).crt"
        tls.keyPath = "\(dir)/\(site).key"
        var c = amqp
        c.tls = tls
        c.authMechanism = .external
        c.username = site
        c.connectionName = "rapport-demo-\(site)"
        let conn = try AMQPConnection(configuration: c)
        try conn.enableConfirms()
        guard let key = try? Signer.load(path: "\(dir)/\(site).signing.key", create: false).signer else { return (conn, nil) }
        guard let id: String = try db.query(
            """
            select key_id from signing_keys where source = $1 and public_key = decode($2, 'hex') and revoked_at is null
              and (retires_at is null or retires_at > now()) order by valid_from desc limit 1
            """, [site, Hex.encode(key.verifier.bytes)]).first?.decode("key_id") else {
            throw CLIError("\(dir)/\(site).signing.key is not a live registered key of \(site) (rapport source add \(site) --key-out …)")
        }
        return (conn, (id, key))
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print leads, merges and dead letters by reason.")
    @OptionGroup var global: GlobalOptions
    func run() throws {
        let db = try PGConnection(try self.global.settings().postgresURL)
        defer { db.close() }
        let s = try IngestStats.read(db)
        print("leads:                  \(s.leads)")
        print("messages accepted:      \(s.accepted)")
        print("  created a lead:       \(s.created)")
        print("  merged into a lead:   \(s.merged)")
        print("  matched a customer:   \(s.matchedCustomer)")
        print("events published:       \(s.eventsPublished) (pending \(s.eventsPending))")
        print("dead letters by reason:")
        let rows = try DeadLetterAdmin(db: db).counts()
        if rows.isEmpty { print("  (none)") }
        for r in rows { print("  \(r.code) [\(r.status)]: \(r.count)") }
    }
}
