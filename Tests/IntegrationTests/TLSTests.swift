import Foundation
import RapportAMQP
import RapportPostgres
import RapportServices
import RapportSupport
import RapportTesting
import Testing

/// Where ops/pki put the local CA and the certificates (ops/test sets it after running ops/pki).
let pkiDirectory: String? = ProcessInfo.processInfo.environment["RAPPORT_PKI_DIR"]

/// Mutual TLS to the broker (127.0.0.1:5671, EXTERNAL login by certificate CN) and TLS to PostgreSQL
/// (verify-full, client-certificate login), as ops/lib.sh's enable_broker_tls and enable_postgres_tls set
/// them up, with the certificates ops/pki makes: the right ones work, the wrong ones are refused with the
/// library's own words, and a worker given the wrong ones waits.
@Suite(.enabled(if: liveServers && pkiDirectory != nil, "set RAPPORT_PKI_DIR (ops/test runs ops/pki and does) to run TLS tests"))
struct TLSIntegrationTests {
    static let pki = pkiDirectory ?? ""
    static func file(_ name: String) -> String { (Self.pki as NSString).appendingPathComponent(name) }

    /// `amqps://…?auth_mechanism=external` with the client certificate `cert` (a path without `.crt`).
    static func brokerURL(host: String = "localhost", vhost: String = "%2F", cert: String = "rapport-worker",
                          ca: String = "ca.crt") -> String {
        "amqps://\(host):5671/\(vhost)?auth_mechanism=external&connection_timeout=5000"
            + "&cacertfile=\(Self.file(ca))&certfile=\(Self.file(cert + ".crt"))&keyfile=\(Self.file(cert + ".key"))"
    }

    /// The test database's URL over TLS to `host`, with `query` added (sslmode, sslrootcert, …).
    static func databaseURL(_ base: String, host: String = "localhost", user: String? = nil, password: String? = nil,
                            _ query: [String: String]) -> String {
        var c = URLComponents(string: base)!
        c.host = host
        if let user { c.user = user; c.password = password }
        c.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return c.string!
    }

    static var pgURL: String { ProcessInfo.processInfo.environment["RAPPORT_PG_URL"]! }

    /// Gives the broker user `rapport-worker` (no password: it logs in by certificate only) rights on `vhost`.
    static func allowWorker(_ env: TestEnvironment, vhost: String) throws {
        if (try? env.management("GET", "/api/users/rapport-worker")) == nil {
            try env.management("PUT", "/api/users/rapport-worker", body: #"{"password_hash":"","tags":""}"#)
        }
        try env.management("PUT", "/api/permissions/\(vhost)/rapport-worker", body: #"{"configure":".*","write":".*","read":".*"}"#)
    }

    static func connectError(_ url: String) -> AMQPError? {
        do {
            let conn = try AMQPConnection(configuration: try .init(url: url))
            conn.close()
            return nil
        } catch {
            return error as? AMQPError
        }
    }

    // MARK: Broker

    @Test(.timeLimit(.minutes(2)))
    func mutualTLSLogsInAsTheCertificatesName() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try Self.allowWorker(env, vhost: env.name)
        let conn: AMQPConnection
        do {
            conn = try AMQPConnection(configuration: try .init(url: Self.brokerURL(vhost: env.name)))
        } catch {
            Issue.record("refused: \(String(reflecting: error))")
            throw error
        }
        defer { conn.close() }
        let q = try conn.declareQueue("", durable: false, exclusive: true, autoDelete: true)
        #expect(q.name.hasPrefix("amq.gen-"))
        try conn.enableConfirms()
        try conn.publish(exchange: "", routingKey: q.name, body: Array("over TLS".utf8),
                         properties: AMQPProperties(messageID: "tls-1"), mandatory: true)
        #expect(try conn.waitForConfirms().allConfirmed)
        try conn.consume(queue: q.name)
        let d = try #require(try conn.nextDelivery(timeout: .seconds(5)))
        #expect(d.body == Array("over TLS".utf8) && d.properties.messageID == "tls-1")
        try conn.ack(d.deliveryTag)
        // The broker saw a TLS connection, logged in as the certificate's CN (its statistics lag a few seconds).
        try await env.waitUntil("the broker lists the connection") {
            try env.management("GET", "/api/vhosts/\(env.name)/connections").contains(#""user":"rapport-worker""#)
        }
        let connections = try env.management("GET", "/api/vhosts/\(env.name)/connections")
        #expect(connections.contains(#""ssl":true"#), "\(connections)")
        #expect(connections.contains(#""auth_mechanism":"EXTERNAL""#), "\(connections)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aCertificateFromAnotherCAIsRefused() throws {
        let e = try #require(Self.connectError(Self.brokerURL(cert: "other-ca/rapport-worker")), "connected with a stranger's certificate")
        #expect(e.code == .tls, "\(String(reflecting: e))")
        // TLS 1.3: the broker checks our certificate after our side of the handshake is done, so its alert
        // arrives while logging in; rabbitmq-c says no more than this (the broker's log names the alert).
        #expect(e.replyText?.contains("SSL error") == true, "\(String(reflecting: e))")
    }

    @Test(.timeLimit(.minutes(2)))
    func noClientCertificateIsRefused() throws {
        // guest/guest would log in on loopback: only the missing certificate stands in the way.
        let url = "amqps://guest:guest@localhost:5671/%2F?connection_timeout=5000&cacertfile=\(Self.file("ca.crt"))"
        let e = try #require(Self.connectError(url), "connected without a client certificate")
        #expect(e.code == .tls, "\(String(reflecting: e))")
        // TLS 1.3: the broker checks our certificate after our side of the handshake is done, so its alert
        // arrives while logging in; rabbitmq-c says no more than this (the broker's log names the alert).
        #expect(e.replyText?.contains("SSL error") == true, "\(String(reflecting: e))")
    }

    @Test(.timeLimit(.minutes(2)))
    func anExpiredClientCertificateIsRefused() throws {
        let e = try #require(Self.connectError(Self.brokerURL(cert: "expired/rapport-worker")), "connected with an expired certificate")
        #expect(e.code == .tls, "\(String(reflecting: e))")
        // TLS 1.3: the broker checks our certificate after our side of the handshake is done, so its alert
        // arrives while logging in; rabbitmq-c says no more than this (the broker's log names the alert).
        #expect(e.replyText?.contains("SSL error") == true, "\(String(reflecting: e))")
    }

    @Test(.timeLimit(.minutes(2)))
    func theBrokersCertificateMustNameTheHost() throws {
        // The certificate names localhost only; 127.0.0.1 is the same broker under a name it does not have.
        let e = try #require(Self.connectError(Self.brokerURL(host: "127.0.0.1")), "connected to a host the certificate does not name")
        #expect(e.code == .tls, "\(String(reflecting: e))")
        #expect(e.replyText?.contains("hostname") == true, "rabbitmq-c's own words: \(String(reflecting: e))")
    }

    @Test(.timeLimit(.minutes(2)))
    func aBrokerThatDoesNotKnowTheCAIsRefused() throws {
        // Our side: the broker's certificate checked against a CA that did not sign it.
        let e = try #require(Self.connectError(Self.brokerURL(ca: "other-ca/ca.crt")), "trusted a broker the CA did not sign")
        #expect(e.code == .tls, "\(String(reflecting: e))")
        #expect(e.replyText?.contains("peer cert verification failed") == true, "\(String(reflecting: e))")
    }

    // MARK: Database

    @Test(.timeLimit(.minutes(2)))
    func verifyFullConnectsOverTLS() throws {
        let url = Self.databaseURL(Self.pgURL, ["sslmode": "verify-full", "sslrootcert": Self.file("ca.crt")])
        let db = try PGConnection(url)
        defer { db.close() }
        let ssl: Bool? = try db.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()").first?.decode("ssl")
        #expect(ssl == true)
    }

    /// A password login over verify-full can also bind the SCRAM exchange to the TLS channel, so a man in
    /// the middle with another certificate cannot relay it.
    @Test(.timeLimit(.minutes(2)))
    func aPasswordLoginIsBoundToTheChannel() throws {
        let url = Self.databaseURL(Self.pgURL, ["sslmode": "verify-full", "sslrootcert": Self.file("ca.crt"), "channel_binding": "require"])
        let db = try PGConnection(url)
        defer { db.close() }
        #expect(try db.query("select 1 as n").first?.decode("n", as: Int.self) == 1)
        // Without TLS there is no channel to bind to: libpq refuses rather than fall back.
        let plain = Self.databaseURL(Self.pgURL, ["sslmode": "disable", "channel_binding": "require"])
        #expect(throws: PGError.self) { try PGConnection(plain) }
    }

    @Test(.timeLimit(.minutes(2)))
    func theWorkerLogsInWithItsCertificate() throws {
        let url = Self.databaseURL(Self.pgURL, user: "rapport-worker", [
            "sslmode": "verify-full", "sslrootcert": Self.file("ca.crt"),
            "sslcert": Self.file("rapport-worker.crt"), "sslkey": Self.file("rapport-worker.key"),
        ])
        let db = try PGConnection(url)
        defer { db.close() }
        let row = try #require(try db.query("select current_user::text as u, ssl from pg_stat_ssl where pid = pg_backend_pid()").first)
        #expect(try row.decode("u", as: String.self) == "rapport-worker")
        #expect(try row.decode("ssl", as: Bool.self))

        // Without the certificate the same role has no way in (it has no password).
        let bare = Self.databaseURL(Self.pgURL, user: "rapport-worker", ["sslmode": "verify-full", "sslrootcert": Self.file("ca.crt")])
        #expect { try PGConnection(bare) } throws: { ($0 as? PGError)?.code == .connection }
        // A certificate with that CN from another CA is not one.
        let stranger = Self.databaseURL(Self.pgURL, user: "rapport-worker", [
            "sslmode": "verify-full", "sslrootcert": Self.file("ca.crt"),
            "sslcert": Self.file("other-ca/rapport-worker.crt"), "sslkey": Self.file("other-ca/rapport-worker.key"),
        ])
        #expect { try PGConnection(stranger) } throws: { ($0 as? PGError)?.code == .connection }
    }

    @Test(.timeLimit(.minutes(2)))
    func theWrongCAIsRefusedInLibpqsWords() throws {
        let url = Self.databaseURL(Self.pgURL, ["sslmode": "verify-full", "sslrootcert": Self.file("other-ca/ca.crt")])
        #expect { try PGConnection(url) } throws: { e in
            guard let e = e as? PGError else { return false }
            return e.code == .connection && e.isTransient && e.message.contains("certificate verify failed")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func theWrongHostNameIsRefusedInLibpqsWords() throws {
        let url = Self.databaseURL(Self.pgURL, host: "127.0.0.1", ["sslmode": "verify-full", "sslrootcert": Self.file("ca.crt")])
        #expect { try PGConnection(url) } throws: { e in
            guard let e = e as? PGError else { return false }
            return e.code == .connection && e.message.contains("server certificate for \"localhost\"")
                && e.message.contains("does not match host name \"127.0.0.1\"")
        }
    }

    // MARK: A worker with the wrong certificates waits

    @Test(.timeLimit(.minutes(2)))
    func aWorkerThatCannotVerifyTheDatabaseWaits() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let wrongCA = Self.databaseURL(env.settings.postgresURL, ["sslmode": "verify-full", "sslrootcert": Self.file("other-ca/ca.crt")])
        let worker = try WorkerProcess(env: env, overrides: [
            "RAPPORT_PG_URL": wrongCA, "RAPPORT_LOG_LEVEL": "info",
            "RAPPORT_BACKUP_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("rapport-backups-\(env.name)").path,
        ], captureLog: true)
        defer { worker.terminate() }
        try await env.waitUntil("retries logged") { worker.logText.components(separatedBy: "server fault; retrying").count > 2 }
        #expect(worker.isRunning, "exited instead of waiting: \(worker.logText)")
        let log = worker.logText
        #expect(log.contains("server=database"), "\(log)")
        #expect(log.contains("certificate verify failed"), "libpq's own message: \(log)")
        #expect(log.contains(":***@localhost"), "the URL without its password: \(log)")
        #expect(!log.contains(":rapport@"), "a password in the log: \(log)")
        #expect(worker.terminate() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aWorkerWhoseCertificateExpiredWaits() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        try Self.allowWorker(env, vhost: env.name)
        let worker = try WorkerProcess(env: env, overrides: [
            "RAPPORT_AMQP_URL": Self.brokerURL(vhost: env.name, cert: "expired/rapport-worker"), "RAPPORT_LOG_LEVEL": "info",
            "RAPPORT_BACKUP_DIR": FileManager.default.temporaryDirectory.appendingPathComponent("rapport-backups-\(env.name)").path,
        ], captureLog: true)
        defer { worker.terminate() }
        try await env.waitUntil("retries logged") {
            worker.logText.components(separatedBy: "server fault; retrying").filter { $0.contains("server=broker") }.count > 2
        }
        #expect(worker.isRunning, "exited instead of waiting: \(worker.logText)")
        let log = worker.logText
        #expect(log.contains("amqps://localhost:5671/\(env.name)?auth_mechanism=external"), "\(log)")
        #expect(log.contains("a SSL error occurred"), "rabbitmq-c's own message: \(log)")
        #expect(worker.terminate() == 0)
    }
}
