import ArgumentParser
import Foundation
import RapportCore
import RapportSupport
import RapportPostgres
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

/// The admin's side of the sales commands: the same code the command messages call.
extension GlobalOptions {
    func database() throws -> PGConnection { try PGConnection(try self.settings().postgresURL) }
}

var cliActor: String { ProcessInfo.processInfo.environment["USER"].map { "cli:" + $0 } ?? "cli" }

struct Rep: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or change a sales rep.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Rep id.") var id: String
    @Option(help: "Display name.") var name: String?
    @Option(help: "Team id.") var team: String?
    @Option(help: "Most leads the rep may hold.") var capacity: Int?
    @Flag(inversion: .prefixedNo, help: "Active reps can claim and be assigned leads; inactive ones never.") var active: Bool?

    func run() throws {
        let db = try self.global.database()
        defer { db.close() }
        try LeadPool(db: db).upsertRep(id: self.id, name: self.name, team: self.team, active: self.active, capacity: self.capacity)
        print("rep \(self.id) saved")
    }
}

struct Team: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or change a team and how it hands out leads.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Team id.") var id: String
    @Option(help: "Display name.") var name: String
    @Option(help: "round_robin or least_loaded.") var assignment = "round_robin"

    func run() throws {
        guard let policy = AssignmentPolicy(rawValue: self.assignment) else { throw CLIError("--assignment is round_robin or least_loaded") }
        let db = try self.global.database()
        defer { db.close() }
        try LeadPool(db: db).upsertTeam(id: self.id, name: self.name, assignment: policy)
        print("team \(self.id) saved (\(policy.rawValue))")
    }
}

struct Pool: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The lead pool: claim, return, assign, and its rules.",
        subcommands: [Show.self, Claim.self, Return.self, Assign.self, Rules.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each pool's rules and leads waiting; each rep's holdings.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let (pools, reps) = try LeadPool(db: db).overview()
            for p in pools {
                print("pool \(p.id): \(p.waiting) waiting; per claim \(p.maxPerClaim), per day \(p.maxPerDay), held \(p.maxHeld), re-claim bar \(p.reclaimBarDays) days")
            }
            for r in reps {
                print("rep \(r.id) (\(r.name ?? "")) team \(r.team ?? "-") \(r.active ? "active" : "INACTIVE"): holds \(r.held) of \(r.capacity)")
            }
        }
    }

    struct Claim: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Claim the pool's oldest leads for a rep, under the pool's rules.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Rep id.") var rep: String
        @Option(help: "How many.") var count = 10
        @Option(help: "Pool id.") var pool = "default"

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let r = try LeadPool(db: db).claim(rep: self.rep, count: self.count, pool: self.pool, actor: cliActor)
            for id in r.leads { print(id.uuidString.lowercased()) }
            print("\(self.rep) claimed \(r.leads.count)" + (r.limitedBy.map { " (limited by \($0))" } ?? ""))
        }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Return a rep's leads to the pool with a reason.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Rep id.") var rep: String
        @Option(help: "Why (kept in the history).") var reason: String
        @Argument(help: "Lead ids.") var leads: [String]

        func run() throws {
            let ids = try self.leads.map { s in try UUID(uuidString: s).orThrow(CLIError("not a lead id: \(s)")) }
            let db = try self.global.database()
            defer { db.close() }
            print("returned \(try LeadPool(db: db).giveBack(ids, rep: self.rep, reason: self.reason, actor: cliActor))")
        }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand pool leads (or the given ones) to a team's active reps by its policy.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Team id.") var team: String
        @Option(help: "How many of the pool's oldest leads.") var count: Int?
        @Option(help: "Pool id.") var pool = "default"
        @Argument(help: "Lead ids (instead of --count).") var leads: [String] = []

        func run() throws {
            let ids = try self.leads.map { s in try UUID(uuidString: s).orThrow(CLIError("not a lead id: \(s)")) }
            guard self.count != nil || !ids.isEmpty else { throw CLIError("give --count N or lead ids") }
            let db = try self.global.database()
            defer { db.close() }
            let pairs = try LeadPool(db: db).assign(team: self.team, count: self.count, leads: ids.isEmpty ? nil : ids,
                                                    pool: self.pool, actor: cliActor)
            for p in pairs { print("\(p.lead.uuidString.lowercased()) -> \(p.rep)") }
            print("assigned \(pairs.count)")
        }
    }

    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a pool or change its claim rules.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Pool id.") var pool = "default"
        @Option var maxPerClaim: Int?
        @Option var maxPerDay: Int?
        @Option var maxHeld: Int?
        @Option(help: "Days a rep may not re-claim a lead they returned.") var reclaimBarDays: Int?
        @Option(help: "Hand new leads to this team at once (its policy), instead of waiting for claims; '' to stop.") var autoAssignTeam: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            try LeadPool(db: db).savePool(id: self.pool, maxPerClaim: self.maxPerClaim, maxPerDay: self.maxPerDay, maxHeld: self.maxHeld,
                                          reclaimBarDays: self.reclaimBarDays, autoAssignTeam: self.autoAssignTeam)
            print("pool \(self.pool) saved")
        }
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> any Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}

struct FollowUp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "followup", abstract: "Follow-up plans and records; overdue plans by rep.",
        subcommands: [Plan.self, Record.self, Cancel.self, Overdue.self])

    struct Subject: ParsableArguments {
        @Option(help: "The lead.") var lead: String?
        @Option(help: "The customer.") var customer: String?

        func value() throws -> FollowUpSubject {
            if let l = self.lead { return .lead(try UUID(uuidString: l).orThrow(CLIError("not a lead id: \(l)"))) }
            if let c = self.customer { return .customer(try UUID(uuidString: c).orThrow(CLIError("not a customer id: \(c)"))) }
            throw CLIError("give --lead or --customer")
        }
    }

    static func kind(_ s: String) throws -> FollowUpKind {
        try FollowUpKind(rawValue: s).orThrow(CLIError("--kind is one of \(FollowUpKind.allCases.map(\.rawValue).joined(separator: ", "))"))
    }

    static func time(_ s: String) throws -> Date {
        try ISO8601.date(s).orThrow(CLIError("not an ISO 8601 time with offset: \(s)"))
    }

    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Plan a follow-up; the scheduler reminds the rep when it is due.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var subject: Subject
        @Option var rep: String
        @Option(help: "call, visit, message, email or meeting.") var kind = "call"
        @Option(help: "When, ISO 8601 with offset.") var due: String
        @Option var note: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let id = try FollowUps(db: db).plan(try self.subject.value(), rep: self.rep, kind: try FollowUp.kind(self.kind),
                                                dueAt: try FollowUp.time(self.due), note: self.note, actor: cliActor)
            print("plan \(id)")
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a follow-up (closing its plan) and optionally plan the next.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var subject: Subject
        @Option var rep: String
        @Option var kind = "call"
        @Option(help: "What happened.") var outcome: String
        @Option var plan: Int64?
        @Option var nextStep: String?
        @Option(help: "Plan the next follow-up at this time.") var nextDue: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let r = try FollowUps(db: db).record(try self.subject.value(), rep: self.rep, kind: try FollowUp.kind(self.kind),
                                                 happenedAt: Date(), outcome: self.outcome, nextStep: self.nextStep, plan: self.plan,
                                                 nextDueAt: try self.nextDue.map(FollowUp.time), actor: cliActor)
            print("record \(r.record)" + (r.nextPlan.map { ", next plan \($0)" } ?? ""))
        }
    }

    struct Cancel: ParsableCommand {
        @OptionGroup var global: GlobalOptions
        @Argument var plan: Int64

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            try FollowUps(db: db).cancel(self.plan, actor: cliActor)
            print("plan \(self.plan) cancelled")
        }
    }

    struct Overdue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open plans past due, by rep.")
        @OptionGroup var global: GlobalOptions
        @Option var rep: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let list = try FollowUps(db: db).overdue(rep: self.rep)
            for o in list {
                let subject = o.lead.map { "lead \($0.uuidString.lowercased())" } ?? o.customer.map { "customer \($0.uuidString.lowercased())" } ?? ""
                print("\(o.rep)\tplan \(o.plan)\t\(o.kind)\tdue \(ISO8601.string(o.dueAt))\t\(subject)\t\(o.note ?? "")")
            }
            print("\(list.count) overdue")
        }
    }
}

struct Customer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Customers: add, edit, delete, merge, search; convert a lead; the 360° view; the public pool (公海).",
        subcommands: [Add.self, Edit.self, Get.self, History.self, Delete.self, Undelete.self, MergeCustomers.self, UnmergeCustomers.self,
                      Search.self, Field.self, Level.self, Convert.self, Show.self, Return.self, AddToPool.self, Claim.self, Recycle.self])

    static func ids(_ s: [String]) throws -> [UUID] { try s.map { try UUID(uuidString: $0).orThrow(CLIError("not an id: \($0)")) } }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a lead a customer (its owner keeps it).")
        @OptionGroup var global: GlobalOptions
        @Argument var lead: String
        @Option(help: "Customer level (A, B, C…), for recycle rules.") var level = "C"

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            print(try CustomerPool(db: db).convert(lead: try Customer.ids([self.lead])[0], level: self.level, actor: cliActor).uuidString.lowercased())
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The 360° view: identities, leads, messages, owners, pools, follow-ups, merges (JSON).")
        @OptionGroup var global: GlobalOptions
        @Argument var customer: String

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            guard let view = try CustomerView.show(try Customer.ids([self.customer])[0], db: db) else { throw CLIError("no customer \(self.customer)") }
            print(view.jsonString)
        }
    }

    struct Return: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A rep gives customers back to a public pool.")
        @OptionGroup var global: GlobalOptions
        @Option var rep: String
        @Option var reason: String
        @Option var pool = "public"
        @Argument var customers: [String]

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            print("returned \(try CustomerPool(db: db).giveBack(try Customer.ids(self.customers), rep: self.rep, reason: self.reason, pool: self.pool, actor: cliActor))")
        }
    }

    struct AddToPool: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put customers straight into a public pool.")
        @OptionGroup var global: GlobalOptions
        @Option var pool = "public"
        @Option var reason: String?
        @Argument var customers: [String]

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            print("added \(try CustomerPool(db: db).add(try Customer.ids(self.customers), pool: self.pool, reason: self.reason, actor: cliActor))")
        }
    }

    struct Claim: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Claim customers from a public pool under its rules.")
        @OptionGroup var global: GlobalOptions
        @Option var rep: String
        @Option var count = 10
        @Option var pool = "public"

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let r = try CustomerPool(db: db).claim(rep: self.rep, count: self.count, pool: self.pool, actor: cliActor)
            for id in r.leads { print(id.uuidString.lowercased()) }
            print("\(self.rep) claimed \(r.leads.count)" + (r.limitedBy.map { " (limited by \($0))" } ?? ""))
        }
    }

    struct Recycle: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the recycle rules once now (the recycler service does it every minute).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let r = try CustomerPool(db: db).recycle(now: Date(), actor: cliActor)
            print("recycled \(r.recycled), warned \(r.warned)")
        }
    }
}

struct Opportunity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The pipeline: opportunities and their stages, quotes, orders and contracts.",
        subcommands: [Create.self, Stage.self, Quote.self, Accept.self, Contract.self])

    static func money(_ s: String, _ what: String) throws -> Decimal { try Money.parse(s).orThrow(CLIError("\(what) is a decimal number: \(s)")) }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open an opportunity for a customer.")
        @OptionGroup var global: GlobalOptions
        @Option var customer: String
        @Option var name: String
        @Option var amount: String
        @Option var owner: String?
        @Option var stage = "qualify"
        @Option var currency = "CNY"
        @Option(help: "yyyy-mm-dd") var expectedClose: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            let id = try Pipeline(db: db).createOpportunity(
                customer: try Customer.ids([self.customer])[0], name: self.name, owner: self.owner, stage: self.stage,
                amount: try Opportunity.money(self.amount, "--amount"), currency: self.currency, expectedClose: self.expectedClose, actor: cliActor)
            print(id.uuidString.lowercased())
        }
    }

    struct Stage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move an opportunity to a stage (qualify, needs, proposal, negotiation, won, lost).")
        @OptionGroup var global: GlobalOptions
        @Argument var opportunity: String
        @Argument var stage: String
        @Option var amount: String?

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            try Pipeline(db: db).moveStage(try Customer.ids([self.opportunity])[0], to: self.stage,
                                           amount: try self.amount.map { try Opportunity.money($0, "--amount") }, actor: cliActor)
            print("moved to \(self.stage)")
        }
    }

    struct Quote: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quote an opportunity: --line 'product;quantity;unit price[;discount %]' …")
        @OptionGroup var global: GlobalOptions
        @Argument var opportunity: String
        @Option(name: .customLong("line")) var lines: [String]
        @Option var discount = "0"
        @Option(help: "0.13 for 13%") var taxRate = "0"
        @Option var validUntil: String?

        func run() throws {
            let parsed = try self.lines.map { l -> QuoteLine in
                let p = l.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
                guard p.count == 3 || p.count == 4 else { throw CLIError("--line is 'product;quantity;unit price[;discount %]': \(l)") }
                return QuoteLine(product: p[0], quantity: try Opportunity.money(p[1], "quantity"), unitPrice: try Opportunity.money(p[2], "unit price"),
                                 discountPercent: p.count == 4 ? try Opportunity.money(p[3], "discount") : 0)
            }
            let db = try self.global.database()
            defer { db.close() }
            let q = try Pipeline(db: db).createQuote(try Customer.ids([self.opportunity])[0], lines: parsed,
                                                     discount: try Opportunity.money(self.discount, "--discount"),
                                                     taxRate: try Opportunity.money(self.taxRate, "--tax-rate"), validUntil: self.validUntil, actor: cliActor)
            print("quote \(q.id.uuidString.lowercased()): subtotal \(Money.text(q.totals.subtotal)), discount \(Money.text(q.totals.discount)), tax \(Money.text(q.totals.tax)), total \(Money.text(q.totals.total))")
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The customer accepted a quote: make the order (the opportunity is won).")
        @OptionGroup var global: GlobalOptions
        @Argument var quote: String

        func run() throws {
            let db = try self.global.database()
            defer { db.close() }
            print("order \(try Pipeline(db: db).acceptQuote(try Customer.ids([self.quote])[0], actor: cliActor).uuidString.lowercased())")
        }
    }

    struct Contract: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign the contract for an order: --payment 'yyyy-mm-dd;amount' …")
        @OptionGroup var global: GlobalOptions
        @Argument var order: String
        @Option var number: String
        @Option var startsOn: String
        @Option var endsOn: String
        @Option(name: .customLong("payment")) var payments: [String]

        func run() throws {
            let plan = try self.payments.map { p -> Installment in
                let parts = p.split(separator: ";").map(String.init)
                guard parts.count == 2 else { throw CLIError("--payment is 'yyyy-mm-dd;amount': \(p)") }
                return Installment(dueOn: parts[0], amount: try Opportunity.money(parts[1], "amount"))
            }
            let db = try self.global.database()
            defer { db.close() }
            let id = try Pipeline(db: db).createContract(order: try Customer.ids([self.order])[0], number: self.number, startsOn: self.startsOn,
                                                         endsOn: self.endsOn, payments: plan, actor: cliActor)
            print("contract \(id.uuidString.lowercased())")
        }
    }
}
