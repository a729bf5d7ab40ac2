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
        static let configuration = CommandConfiguration(abstract: "Declare every exchange, queue and binding (idempotent).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            let settings = try self.global.settings()
            let topology = try TopologyApplier.load(path: settings.topologyPath)
            let conn = try AMQPConnection(configuration: settings.amqpConfiguration(name: "rapport-topology"))
            defer { conn.close() }
            try TopologyApplier.apply(topology, on: conn)
            print("applied \(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings")
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
