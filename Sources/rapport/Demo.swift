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

    func run() throws {
        let settings = try self.global.settings()
        var msgs = DemoData.webForms(people: self.people, duplicates: self.duplicates, malformed: self.malformed, run: self.runID)
        if self.customers > 0 {
            let db = try PGConnection(settings.postgresURL)
            defer { db.close() }
            try DemoData.seedCustomers(self.customers, run: self.runID, db: db)
        }
        let conn = try AMQPConnection(configuration: settings.amqpConfiguration(name: "rapport-demo"))
        defer { conn.close() }
        try conn.enableConfirms()
        msgs.shuffle()
        let progress = Progress(label: "publishing")
        for (i, m) in msgs.enumerated() {
            try conn.publish(exchange: "rapport.inbound", routingKey: m.routingKey, body: m.body, properties: m.properties, mandatory: true)
            if (i + 1) % 100 == 0 || i + 1 == msgs.count {
                let r = try conn.waitForConfirms()
                guard r.allConfirmed else { throw CLIError("broker did not accept every message: \(r.nacked.count) nacked, \(r.returned.count) unroutable") }
                progress.update(i + 1, msgs.count)
            }
        }
        print("published \(msgs.count) messages: \(self.people) people, \(self.duplicates) repeats, \(self.malformed) malformed")
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
