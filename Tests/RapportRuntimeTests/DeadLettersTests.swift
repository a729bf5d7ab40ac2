import Foundation
import RapportAMQP
import RapportCore
import RapportRuntime
import RapportSupport
import Testing

/// Dead-letter headers and archive rows, without a broker.
struct DeadLettersTests {
    static func delivery(messageID: String? = "m-1", headers: AMQPTable = [:], redelivered: Bool = false) -> AMQPDelivery {
        var p = AMQPProperties(contentType: "application/json", messageID: messageID, appID: "site-a", timestamp: Date())
        p.headers = headers
        return AMQPDelivery(deliveryTag: 7, redelivered: redelivered, exchange: "rapport.inbound",
                            routingKey: "inbound.webform.site-a", properties: p, body: Array(#"{"name":"张伟"}"#.utf8))
    }

    @Test func everyDeadLetterSaysWhyWhereFromAndHowOften() {
        let rejection = InboundRejection(code: .invalidField, reason: "`phone` must be a string.", field: "phone")
        let d = Self.delivery(headers: ["x-delivery-count": .int(2)])
        let at = Date(timeIntervalSince1970: 1_795_570_200)
        let h = DeadLetters.properties(for: d, rejection: rejection, now: at).headers
        #expect(h[DeadLetterHeader.code]?.stringValue == "invalid_field")
        #expect(h[DeadLetterHeader.error]?.stringValue == "`phone` must be a string.")
        #expect(h[DeadLetterHeader.field]?.stringValue == "phone")
        #expect(h[DeadLetterHeader.originalExchange]?.stringValue == "rapport.inbound")
        #expect(h[DeadLetterHeader.originalRoutingKey]?.stringValue == "inbound.webform.site-a")
        #expect(h[DeadLetterHeader.attempts]?.intValue == 3)
        #expect(h[DeadLetterHeader.failedAt]?.stringValue == "2026-11-25T01:30:00.000Z")
    }

    @Test func theSameFailureGetsTheSameIDAndAReplayANewOne() {
        let r = InboundRejection(code: .invalidJSON, reason: "not JSON")
        let id = { (d: AMQPDelivery) in DeadLetters.properties(for: d, rejection: r).headers[DeadLetterHeader.id]?.stringValue }
        #expect(id(Self.delivery()) == id(Self.delivery(redelivered: true)))
        #expect(id(Self.delivery()) != id(Self.delivery(headers: [DeadLetterHeader.replayedFrom: .string("12")])))
        // Without a message id two messages cannot be told apart: each gets its own.
        #expect(id(Self.delivery(messageID: nil)) != id(Self.delivery(messageID: nil)))
    }

    @Test func theBrokersOwnDeadLettersAreArchivedWithTheirReason() throws {
        let death: AMQPTable = ["reason": .string("delivery_limit"), "queue": .string("rapport.inbound.webform"),
                                "exchange": .string("rapport.inbound"), "routing-keys": .array([.string("inbound.webform.site-a")]),
                                "count": .int(1), "time": .timestamp(Date(timeIntervalSince1970: 1_795_570_200))]
        let row = try #require(DeadLetters.archiveRow(Self.delivery(headers: ["x-death": .array([.table(death)])])).objectValue)
        #expect(row["error_code"] == "delivery_limit")
        #expect(row["original_routing_key"] == "inbound.webform.site-a")
        #expect(row["source"] == "site-a")
        #expect(row["dedupe_key"]?.stringValue?.hasPrefix("broker:") == true)
    }
}

struct BackoffTests {
    @Test func doublesWithJitterUpToTheCapAndResets() {
        var b = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        let waits = (0..<8).map { _ in b.next() }
        #expect(waits[0] >= .milliseconds(50) && waits[0] <= .milliseconds(100))
        #expect(waits[3] >= .milliseconds(400) && waits[3] <= .milliseconds(800))
        #expect(waits.allSatisfy { $0 <= .seconds(1) })
        #expect(waits[7] >= .milliseconds(500))
        b.reset()
        #expect(b.next() <= .milliseconds(100))
    }
}

struct RedactTests {
    @Test(arguments: [
        ("postgresql://rapport:s3cret@db.example:5432/rapport", "postgresql://rapport:***@db.example:5432/rapport"),
        ("postgresql://rapport@127.0.0.1/rapport?password=s3cret&sslmode=verify-full",
         "postgresql://rapport@127.0.0.1/rapport?password=***&sslmode=verify-full"),
        ("host=127.0.0.1 user=rapport password=s3cret dbname=rapport", "host=127.0.0.1 user=rapport password=*** dbname=rapport"),
        ("postgresql://127.0.0.1/rapport", "postgresql://127.0.0.1/rapport"),
    ])
    func secretsNeverReachALog(url: String, logged: String) {
        #expect(Redact.url(url) == logged)
        #expect(!Redact.url(url).contains("s3cret"))
    }

    @Test func theBrokerIsNamedWithoutItsPassword() throws {
        let c = ServerConnections(amqp: try AMQPConnection.Configuration(url: "amqp://app:s3cret@mq.example:5672/crm"),
                                  postgresURL: "postgresql://u:p@h/db")
        #expect(c.brokerAddress == "amqp://app@mq.example:5672/crm")
        #expect(c.databaseAddress == "postgresql://u:***@h/db")
    }

    @Test func aCertificateLoginIsNamedWithoutUser() throws {
        let c = ServerConnections(
            amqp: try AMQPConnection.Configuration(
                url: "amqps://app:s3cret@localhost/crm?auth_mechanism=external&cacertfile=/pki/ca.crt&certfile=/pki/w.crt&keyfile=/pki/w.key"),
            postgresURL: "postgresql://u:p@h/db")
        #expect(c.brokerAddress == "amqps://localhost:5671/crm?auth_mechanism=external")
    }
}

struct AMQPURLTests {
    @Test func externalLoginTakesTheCertificateFromTheURL() throws {
        let c = try AMQPConnection.Configuration(
            url: "amqps://localhost:5671/%2F?auth_mechanism=external&cacertfile=/pki/ca.crt&certfile=/pki/w.crt&keyfile=/pki/w.key")
        #expect(c.authMechanism == .external)
        #expect(c.port == 5671 && c.vhost == "/")
        #expect(c.tls?.caCertificatePath == "/pki/ca.crt" && c.tls?.certificatePath == "/pki/w.crt" && c.tls?.keyPath == "/pki/w.key")
        #expect(c.tls?.verifyPeer == true && c.tls?.verifyHostname == true)
        #expect(c.username == "" && c.password == "")
        #expect(try AMQPConnection.Configuration(url: "amqp://u:p@h/v").authMechanism == .plain)
    }

    @Test(arguments: [
        "amqp://localhost/%2F?auth_mechanism=external",  // no TLS
        "amqps://localhost/%2F?auth_mechanism=external&cacertfile=/pki/ca.crt",  // no client certificate
        "amqps://localhost/%2F?auth_mechanism=kerberos&cacertfile=/pki/ca.crt",
    ])
    func externalLoginWithoutACertificateIsAnInvalidURL(url: String) {
        #expect { try AMQPConnection.Configuration(url: url) } throws: { ($0 as? AMQPError)?.code == .invalidURL }
    }
}
