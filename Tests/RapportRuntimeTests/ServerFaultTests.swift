import RapportAMQP
import RapportPostgres
import RapportRuntime
import Testing

struct ServerFaultTests {
    @Test func faultsNameTheirServerAndItsOwnMessage() throws {
        let connections = ServerConnections(amqp: try AMQPConnection.Configuration(url: "amqp://guest:guest@127.0.0.1:5672/%2F"),
                                            postgresURL: "postgresql://rapport:pw@127.0.0.1:1/rapport")
        let db = ServerFault(PGError(.connection, message: "connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"),
                             connections: connections)
        #expect(db.server == "database" && db.address == "postgresql://rapport:***@127.0.0.1:1/rapport")
        #expect(db.message.hasSuffix("Connection refused"))
        let mq = ServerFault(AMQPError(.connect, replyText: "a socket error occurred"), connections: connections)
        #expect(mq.server == "broker" && mq.message == "a socket error occurred")
        #expect(!"\(db) \(mq)".contains("pw@"))
    }

    @Test func onlyServerFaultsAreWaitedOut() {
        #expect(ServerFault.isTransient(PGError(.connection, message: "refused")))
        #expect(ServerFault.isTransient(PGError(.query, message: "deadlock", sqlState: "40P01")))
        #expect(!ServerFault.isTransient(PGError(.query, message: "syntax", sqlState: "42601")))
        #expect(ServerFault.isTransient(AMQPError(.connectionLost)))
        // A certificate the broker refuses today (expired, not yet trusted) may be replaced: waited out, not an exit.
        #expect(ServerFault.isTransient(AMQPError(.tls, replyText: "a SSL error occurred")))
        #expect(!ServerFault.isTransient(AMQPError(.invalidURL, replyText: "expected amqp://")))
        #expect(!ServerFault.isTransient(CancellationError()))
    }
}
