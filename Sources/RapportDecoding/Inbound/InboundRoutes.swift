import Foundation
import RapportCore
import RapportSupport

/// Which decoder each inbound queue uses: data in `connectors/routes.json`, so a new form with other
/// field names is a mapping file and a line there (plus a binding in topology/), not code.
///
/// ```json
/// {"queues": {"rapport.inbound.webform": {
///     "default": "rapport",
///     "connectors": {"landing-page": {"mapping": "webform/landing-page.mapping.json"}}}}}
/// ```
/// `default` and each connector are `"rapport"` (Rapport's own field names, ``WebFormDecoder``) or
/// `{"mapping": PATH}` (a ``MappedDecoder``; PATH relative to the connectors folder). A connector may name
/// a `shared_key` the worker is given in its settings (never in this file); `other_identity: true` lets a
/// queue accept records that name a person by address, birth date or national id instead of a contact.
public struct InboundRoutes: Sendable {
    /// How one queue decodes.
    public struct Route: Sendable, Hashable {
        public var defaultDecoder: DecoderSpec?
        public var connectors: [String: DecoderSpec]
        public var acceptsOtherIdentity: Bool
    }

    /// One decoder: the built-in format or a mapping file.
    public struct DecoderSpec: Sendable, Hashable {
        /// Path of the mapping, relative to the connectors folder; `nil` for Rapport's own format.
        public var mapping: String?
        /// Name of the shared key (in the worker's settings) the payload must carry.
        public var sharedKey: String?
        /// Name of the app secret (in the worker's settings) a relay's `x-hub-signature-256` is checked with.
        public var hubSecret: String? = nil
    }

    public let directory: String
    public let queues: [String: Route]

    /// Reads `<directory>/routes.json`.
    public static func load(connectorsDirectory directory: String) throws -> InboundRoutes {
        let path = directory + "/routes.json"
        func fail(_ why: String) -> ChannelMappingError { ChannelMappingError(code: .invalidMapping, path: path, reason: why) }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read the file") }
        guard let root = (try? JSONValue.parse(Array(data)))?.objectValue, let queues = root["queues"]?.objectValue else {
            throw fail("expected an object with \"queues\"")
        }
        func spec(_ v: JSONValue, _ at: String) throws -> DecoderSpec {
            if v.stringValue == "rapport" { return DecoderSpec(mapping: nil, sharedKey: nil) }
            guard let o = v.objectValue, let m = o["mapping"]?.stringValue else {
                throw fail("\(at) is \"rapport\" or {\"mapping\": PATH}")
            }
            if let unknown = o.keys.first(where: { !["mapping", "shared_key", "hub_secret", "comment"].contains($0) }) { throw fail("\(at): unknown key \(unknown)") }
            return DecoderSpec(mapping: m, sharedKey: o["shared_key"]?.stringValue, hubSecret: o["hub_secret"]?.stringValue)
        }
        var routes: [String: Route] = [:]
        for (queue, v) in queues {
            guard let o = v.objectValue else { throw fail("queue \(queue) is not an object") }
            if let unknown = o.keys.first(where: { !["default", "connectors", "other_identity", "comment"].contains($0) }) {
                throw fail("queue \(queue): unknown key \(unknown)")
            }
            var connectors: [String: DecoderSpec] = [:]
            for (name, c) in o["connectors"]?.objectValue ?? [:] { connectors[name] = try spec(c, "\(queue).connectors.\(name)") }
            routes[queue] = Route(defaultDecoder: try o["default"].map { try spec($0, "\(queue).default") }, connectors: connectors,
                                  acceptsOtherIdentity: o["other_identity"] == .bool(true))
        }
        return InboundRoutes(directory: directory, queues: routes)
    }

    /// The decoder of `queue`, whose channel is `channel` (`inbound.<channel>.<source>`).
    ///
    /// - Parameter sharedKeys: Secrets by the name a connector's `shared_key` gives.
    /// - Throws: when the queue has no route or its default cannot be loaded; a connector that cannot be
    ///   loaded is listed in ``RoutedDecoder/unavailable`` instead, so the others keep working.
    public func decoder(queue: String, channel: String, maxBodyBytes: Int, sharedKeys: [String: String] = [:]) throws -> RoutedDecoder {
        guard let route = self.queues[queue] else {
            throw ChannelMappingError(code: .invalidMapping, path: self.directory + "/routes.json", reason: "no route for queue \(queue)")
        }
        func make(_ spec: DecoderSpec) throws -> any InboundDecoder {
            guard let path = spec.mapping else {
                var web = WebFormDecoder(channel: channel, maxBodyBytes: maxBodyBytes)
                web.acceptsOtherIdentity = route.acceptsOtherIdentity
                return web
            }
            let mapping = try ChannelMapping(contentsOfFile: self.directory + "/" + path)
            var key: String?
            if let name = spec.sharedKey {
                guard let k = sharedKeys[name], !k.isEmpty else { throw ChannelMappingError(code: .missingConfiguration, path: self.directory + "/" + path, reason: "no \(name) configured") }
                key = k
            }
            var configuration = MappedDecoder.Configuration(sharedKey: key, maxBodyBytes: maxBodyBytes, routingChannel: channel)
            // Optional: without the secret the header cannot be checked, and the connector still works.
            configuration.hubSecret = spec.hubSecret.flatMap { sharedKeys[$0] }.flatMap { $0.isEmpty ? nil : $0 }
            return MappedInboundDecoder(try MappedDecoder(mapping: mapping, configuration: configuration))
        }
        var connectors: [String: any InboundDecoder] = [:]
        var unavailable: [String: String] = [:]
        for (name, spec) in route.connectors {
            do { connectors[name] = try make(spec) } catch { unavailable[name] = "\(error)" }
        }
        return RoutedDecoder(connectors: connectors, unavailable: unavailable, fallback: try route.defaultDecoder.map(make))
    }
}
