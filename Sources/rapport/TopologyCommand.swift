import ArgumentParser
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportAdmin
import RapportTesting

struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology", abstract: "Apply or export the broker topology (topology/rapport.json).",
        subcommands: [Apply.self, Export.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare every exchange, queue and binding, and the broker users with their permissions (idempotent).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Give each broker user the password <its name>, for plain-loopback development only.")
        var devPasswords = false
        @Flag(help: "Skip the broker users (no management API at hand).") var noIdentities = false
        func run() throws {
            let settings = try self.global.settings()
            let topology = try TopologyApplier.load(path: settings.topologyPath)
            let amqp = try settings.amqpConfiguration(name: "rapport-topology")
            let conn = try AMQPConnection(configuration: amqp)
            defer { conn.close() }
            try TopologyApplier.apply(topology, on: conn)
            var users = ""
            if !self.noIdentities && !topology.identities.isEmpty {
                let created = try IdentityApplier(managementURL: settings.managementURL, vhost: amqp.vhost)
                    .apply(topology, devPasswords: self.devPasswords)
                users = ", \(topology.identities.count) broker users (\(created) new\(self.devPasswords ? ", development passwords" : ""))"
            }
            print("applied \(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings\(users)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a RabbitMQ definitions.json for `rabbitmqctl import_definitions`.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Virtual host to put in the definitions.") var vhost = "/"
        func run() throws {
            let settings = try self.global.settings()
            let topology = try TopologyApplier.load(path: settings.topologyPath)
            print(topology.definitions(vhost: self.vhost).jsonString)
        }
    }
}
