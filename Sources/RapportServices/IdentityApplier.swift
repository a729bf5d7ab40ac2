import Foundation
import RapportMonitor
import RapportRuntime
import RapportSupport

/// Why the broker's users could not be set up.
public struct IdentityApplierError: Error, Sendable, CustomStringConvertible {
    public typealias Code = ErrorCode<IdentityApplierError>
    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// Creates the topology's broker users and sets their permissions through the management API
/// (`rapport topology apply`). AMQP cannot manage users; the management API can.
///
/// A user that does not exist is created without a password, so it logs in by client certificate only
/// (EXTERNAL); an existing user's credentials are left alone. `devPasswords` gives each identity the
/// password `<name>` instead, for plain-loopback development and tests; never in production.
public struct IdentityApplier: Sendable {
    public var managementURL: String
    public var vhost: String

    public init(managementURL: String, vhost: String) {
        self.managementURL = managementURL.hasSuffix("/") ? String(managementURL.dropLast()) : managementURL
        self.vhost = vhost
    }

    /// Applies every identity of `topology`; returns how many users were created.
    @discardableResult
    public func apply(_ topology: Topology, devPasswords: Bool = false) throws -> Int {
        let vhost = Self.escape(self.vhost)
        var created = 0
        for identity in topology.identities {
            let user = Self.escape(identity.name)
            let exists = try self.call("GET", "/api/users/\(user)", ok: [200, 404]) == 200
            if !exists || devPasswords {
                // The admin replays dead letters of registered sources, which keeps their user_id.
                let tags: JSONValue = .string(identity.role == .admin ? "impersonator" : "")
                let credentials: JSONValue = devPasswords ? ["password": .string(identity.name), "tags": tags]
                    : ["password_hash": "", "tags": tags]
                try self.call("PUT", "/api/users/\(user)", credentials, ok: [201, 204])
                if !exists { created += 1 }
            }
            let p = Topology.permissions(of: identity)
            try self.call("PUT", "/api/permissions/\(vhost)/\(user)",
                          ["configure": .string(p.configure), "write": .string(p.write), "read": .string(p.read)], ok: [201, 204])
            if let t = p.topic {
                try self.call("PUT", "/api/topic-permissions/\(vhost)/\(user)",
                              ["exchange": .string(t.exchange), "write": .string(t.write), "read": .string(t.read)], ok: [201, 204])
            }
        }
        return created
    }

    @discardableResult
    private func call(_ method: String, _ path: String, _ body: JSONValue? = nil, ok: Set<Int>) throws -> Int {
        let r = try MiniHTTP.request(method, self.managementURL + path, json: body?.jsonString)
        guard ok.contains(r.status) else {
            throw IdentityApplierError(.refused, "management API \(method) \(path): HTTP \(r.status) \(r.body.prefix(200))")
        }
        return r.status
    }

    /// A path segment: `/` is `%2F`.
    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? s
    }
}

extension ErrorCode where Owner == IdentityApplierError {
    /// The management API refused or failed a call.
    public static let refused = Self("refused")
}
