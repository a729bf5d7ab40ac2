import Foundation
import RapportSupport
import RapportPostgres

/// Broker health from the RabbitMQ management API: queue depths and their growth, consumers, dead letters
/// waiting to be archived, blocked connections.
public struct BrokerCheck: HealthCheck {
    public let name = "broker", category = "broker"
    let managementURL: String
    let vhost: String
    let fetch: @Sendable (String) throws -> (status: Int, body: String)

    public init(managementURL: String, vhost: String = "/", fetch: @escaping @Sendable (String) throws -> (status: Int, body: String) = { try MiniHTTP.get($0) }) {
        self.managementURL = managementURL.hasSuffix("/") ? String(managementURL.dropLast()) : managementURL
        self.vhost = vhost
        self.fetch = fetch
    }

    public func run() -> CheckOutcome {
        let v = self.vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
        do {
            let queues = try self.fetch(self.managementURL + "/api/queues/\(v)?columns=name,messages_ready,messages_unacknowledged,consumers,messages_details")
            guard queues.status == 200 else {
                return .readings([Reading(check: "broker_reachable", category: self.category, value: 0, unit: "", detail: "management API said \(queues.status)")])
            }
            let connections = try? self.fetch(self.managementURL + "/api/connections?columns=name,state,vhost")
            return .readings(Self.parse(queues: queues.body, connections: connections?.status == 200 ? connections?.body : nil))
        } catch {
            return .readings([Reading(check: "broker_reachable", category: self.category, value: 0, unit: "", detail: "\(error)")])
        }
    }

    /// Readings from the management API's `/api/queues/<vhost>` and `/api/connections` JSON.
    public static func parse(queues: String, connections: String?) -> [Reading] {
        var out = [Reading(check: "broker_reachable", category: "broker", value: 1, unit: "")]
        func num(_ v: JSONValue?) -> Double? { if case .number(let d)? = v { return d } else { return nil } }
        if case .array(let list)? = try? JSONValue.parse(Array(queues.utf8)) {
            for q in list {
                guard let o = q.objectValue, let name = o["name"]?.stringValue, name.hasPrefix("rapport.") else { continue }
                let ready = num(o["messages_ready"]) ?? 0
                if name == "rapport.dead" {
                    out.append(Reading(check: "dead_letters_waiting", category: "broker", subject: name, value: ready, unit: "messages",
                                       detail: "not yet archived"))
                    continue
                }
                out.append(Reading(check: "queue_ready", category: "broker", subject: name, value: ready, unit: "messages",
                                   detail: "unacked \(Int(num(o["messages_unacknowledged"]) ?? 0))"))
                if let rate = num(o["messages_details"]?.objectValue?["rate"]) {
                    out.append(Reading(check: "queue_growth", category: "broker", subject: name, value: rate, unit: "msg/s"))
                }
                if name.hasPrefix("rapport.inbound.") || name.hasPrefix("rapport.commands.") {
                    out.append(Reading(check: "queue_consumers", category: "broker", subject: name, value: num(o["consumers"]) ?? 0, unit: "consumers"))
                }
            }
        }
        if let connections, case .array(let list)? = try? JSONValue.parse(Array(connections.utf8)) {
            let blocked = list.filter { ["blocked", "blocking"].contains($0.objectValue?["state"]?.stringValue ?? "") }
            out.append(Reading(check: "connection_blocked", category: "broker", value: Double(blocked.count), unit: "connections",
                               detail: blocked.isEmpty ? nil : "a resource alarm (memory or disk) is blocking publishers"))
        }
        return out
    }
}

/// Database health: reachable, connections in use of the maximum, size, the longest open transaction.
public struct DatabaseCheck: HealthCheck {
    public let name = "database", category = "database"
    let url: String
    public init(url: String) { self.url = url }

    public func run() -> CheckOutcome {
        do {
            let db = try PGConnection(self.url)
            defer { db.close() }
            let r = try db.query(
                """
                select (select count(*) from pg_stat_activity)::float8 * 100 / current_setting('max_connections')::float8 as used,
                       pg_database_size(current_database())::float8 / 1048576 as size_mb,
                       coalesce(extract(epoch from max(now() - xact_start)), 0)::float8 as longest
                from pg_stat_activity where xact_start is not null and pid <> pg_backend_pid()
                """).first!
            return .readings([
                Reading(check: "database_reachable", category: self.category, value: 1, unit: ""),
                Reading(check: "database_connections_used", category: self.category, value: ((r["used"].flatMap(Double.init) ?? 0) * 10).rounded() / 10, unit: "%"),
                Reading(check: "database_size", category: self.category, value: (r["size_mb"].flatMap(Double.init) ?? 0).rounded(), unit: "MB"),
                Reading(check: "longest_transaction", category: self.category, value: ((r["longest"].flatMap(Double.init) ?? 0) * 10).rounded() / 10, unit: "s"),
            ])
        } catch {
            return .readings([Reading(check: "database_reachable", category: self.category, value: 0, unit: "", detail: "\(error)")])
        }
    }
}

/// The workers: this process's resident memory, and how long ago the last inbound message was committed.
public struct WorkerCheck: HealthCheck {
    public let name = "workers", category = "workers"
    let url: String
    let files: FileSource
    public init(url: String, files: FileSource = FileSource()) {
        self.url = url
        self.files = files
    }

    public func run() -> CheckOutcome {
        var out: [Reading] = []
        if let status = self.files.text("proc/self/status"), let kb = MemoryCheck.parse(status)["VmRSS"] {
            out.append(Reading(check: "worker_rss", category: self.category, value: (kb / 1024).rounded(), unit: "MB"))
        }
        if let db = try? PGConnection(self.url) {
            defer { db.close() }
            if let row = try? db.query("select extract(epoch from now() - max(processed_at))::float8 as age from inbound_ledger").first,
               let age = row["age"].flatMap(Double.init) {
                out.append(Reading(check: "last_batch_age", category: self.category, value: age.rounded(), unit: "s", detail: "since the last committed message"))
            }
        }
        return out.isEmpty ? .unavailable(check: self.name, category: self.category, reason: "no /proc/self/status and no database") : .readings(out)
    }
}
