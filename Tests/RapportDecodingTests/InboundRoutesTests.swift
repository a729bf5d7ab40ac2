import Foundation
import RapportCore
import RapportDecoding
import RapportSupport
import Testing

/// Which decoder a queue uses is data: `connectors/routes.json`.
struct InboundRoutesTests {
    static func envelope(_ body: String, source: String, channel: String = "webform", type: String? = nil) -> InboundEnvelope {
        var e = InboundEnvelope(exchange: "rapport.inbound", routingKey: "inbound.\(channel).\(source)", messageID: "m-\(source)",
                                appID: source, contentType: "application/json", body: Array(body.utf8))
        e.type = type
        return e
    }

    @Test func theShippedRoutesLoadEveryConnector() throws {
        let routes = try InboundRoutes.load(connectorsDirectory: ChannelFixtures.connectorsDirectory.path)
        for (queue, channel) in [("rapport.inbound.webform", "webform"), ("rapport.inbound.ads", "ads"), ("rapport.inbound.import", "import")] {
            let d = try routes.decoder(queue: queue, channel: channel, maxBodyBytes: 65_536, sharedKeys: ["google_ads_key": "k"])
            #expect(d.unavailable.isEmpty, "\(queue): \(d.unavailable)")
        }
        // Without its key the Google connector is unavailable (its leads are dead-lettered), the others still work.
        let ads = try routes.decoder(queue: "rapport.inbound.ads", channel: "ads", maxBodyBytes: 65_536)
        #expect(ads.unavailable.keys.sorted() == ["google-ads"] && ads.connectors.keys.sorted() == ["facebook-lead-ads"])
    }

    /// A form builder with its own field names: a mapping file and a line in routes.json, no code.
    @Test func aNewFormIsAMappingFileAndARoute() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-connectors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("expo"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"""
        {"channel": "webform", "format": "flat-json",
         "fields": {"name": "visitor", "phone": "mobile", "company": "org", "fields.booth": "booth"}}
        """#.write(to: dir.appendingPathComponent("expo/mapping.json"), atomically: true, encoding: .utf8)
        try #"""
        {"queues": {"rapport.inbound.webform": {"default": "rapport", "connectors": {"expo-2026": {"mapping": "expo/mapping.json"}}}}}
        """#.write(to: dir.appendingPathComponent("routes.json"), atomically: true, encoding: .utf8)

        let decoder = try InboundRoutes.load(connectorsDirectory: dir.path)
            .decoder(queue: "rapport.inbound.webform", channel: "webform", maxBodyBytes: 65_536)
        let lead = try decoder.decode(Self.envelope(#"{"visitor": "王芳", "mobile": "138 1234 5678", "org": "星河科技", "booth": "A12"}"#,
                                                     source: "expo-2026")).get()
        #expect(lead.name == "王芳" && lead.phone == "+8613812345678" && lead.company == "星河科技")
        #expect(lead.fields["booth"] == "A12" && lead.source == "expo-2026" && lead.channel == "webform")
        // Every other source keeps Rapport's own field names.
        let site = try decoder.decode(Self.envelope(#"{"name": "张伟", "phone": "13912345678"}"#, source: "site-a")).get()
        #expect(site.name == "张伟" && site.phone == "+8613912345678")
        // The new form's body under the default decoder has no contact: the route is what made it work.
        #expect(throws: InboundRejection.self) {
            try decoder.decode(Self.envelope(#"{"visitor": "王芳", "mobile": "138 1234 5678"}"#, source: "site-a")).get()
        }
    }

    @Test func aMessageNamingNoConnectorOfAQueueWithoutDefaultIsRefused() throws {
        let routes = try InboundRoutes.load(connectorsDirectory: ChannelFixtures.connectorsDirectory.path)
        let ads = try routes.decoder(queue: "rapport.inbound.ads", channel: "ads", maxBodyBytes: 65_536)
        let r = ChannelFixtures.rejection(ads.decode(Self.envelope("{}", source: "tiktok", channel: "ads", type: "tiktok")))
        #expect(r?.code == .unknownConnector && r?.field == "type")
        let google = ChannelFixtures.rejection(ads.decode(Self.envelope("{}", source: "x", channel: "ads", type: "google-ads")))
        #expect(google?.code == .unknownConnector && google?.reason.contains("not configured") == true)
    }

    @Test(arguments: [
        (#"{"queues": {"q": {"default": "webform"}}}"#, "is \"rapport\" or"),
        (#"{"queues": {"q": {"defualt": "rapport"}}}"#, "unknown key defualt"),
        (#"{"routes": {}}"#, "expected an object with \"queues\""),
    ])
    func badRoutesAreRefusedAtStart(json: String, says: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-routes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try json.write(to: dir.appendingPathComponent("routes.json"), atomically: true, encoding: .utf8)
        let e = #expect(throws: ChannelMappingError.self) { try InboundRoutes.load(connectorsDirectory: dir.path) }
        #expect(e.map { "\($0)".contains(says) } == true, "\(String(describing: e))")
    }
}
