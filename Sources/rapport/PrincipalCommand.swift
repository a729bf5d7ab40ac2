import ArgumentParser
import Foundation
import RapportCore
import RapportPostgres
import RapportServices
import RapportStore

struct PrincipalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "principal", abstract: "Who may send commands: broker users mapped to a role (admin, manager, rep, service_agent, system).",
        discussion: "A command's sender is its broker-validated user_id. A rep acts only for themselves, a manager for their team, an admin for anyone; anything else is refused `forbidden` and recorded in access_refusals.",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or change a principal.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The broker user name (the certificate's common name).") var name: String
        @Option(help: "admin, manager, rep, service_agent or system.") var role: String
        @Option(help: "For a rep: their rep id.") var rep: String?
        @Option(help: "For a manager: the team they lead.") var team: String?

        func run() throws {
            guard let role = CommandAccess.Role(rawValue: self.role) else {
                throw CLIError("--role: one of \(CommandAccess.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if role == .rep && self.rep == nil { throw CLIError("a rep principal needs --rep REP_ID") }
            if role == .manager && self.team == nil { throw CLIError("a manager principal needs --team TEAM_ID") }
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            try Principals(db: db).upsert(.init(name: self.name, role: role, repID: self.rep, teamID: self.team))
            print("principal \(self.name): \(role.rawValue)" + (self.rep.map { " for rep \($0)" } ?? "") + (self.team.map { " of team \($0)" } ?? ""))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every principal.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let db = try PGConnection(try self.global.settings().postgresURL)
            defer { db.close() }
            for p in try Principals(db: db).all() {
                print([p.name, p.role.rawValue, p.repID ?? "-", p.teamID ?? "-"].joined(separator: "\t"))
            }
        }
    }
}
