import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite("Channel: mapping format")
struct ChannelMappingTests {
    // MARK: Shipped mappings

    static let shippedMappings = [
        "webform/landing-page.mapping.json", "google-ads/mapping.json",
        "facebook-lead-ads/mapping.json", "csv/mapping.json", "csv/crm-dedupe.mapping.json", "csv/febrl.mapping.json",
    ]

    @Test(arguments: Self.shippedMappings)
    func shippedMappingLoads(path: String) throws {
        let mapping = try ChannelFixtures.mapping(path)
        #expect(!mapping.targets.isEmpty)
        #expect(path.hasPrefix(mapping.channel + "/"))
    }

    @Test func everyMappingFileInConnectorsIsTested() throws {
        let files = try FileManager.default.subpathsOfDirectory(atPath: ChannelFixtures.connectorsDirectory.path)
            .filter { $0.hasSuffix("mapping.json") }
        #expect(Set(files) == Set(Self.shippedMappings))
    }

    @Test func googleAdsMappingSettings() throws {
        let mapping = try ChannelFixtures.mapping("google-ads/mapping.json")
        #expect(mapping.format == .googleAds)
        #expect(mapping.routingChannel == "ads")
        #expect(mapping.idempotencyKey == "lead_id")
        #expect(mapping.testFlag == "is_test")
        #expect(mapping.keyField == "google_key")
        #expect(mapping.requiredAny == ["phone", "email"])
        #expect(mapping.targets.contains("fields.city"))
    }

    @Test func csvRoutingChannelDefaultsToImport() throws {
        let mapping = try ChannelFixtures.mapping(json: #"{"channel": "erp", "format": "csv", "fields": {"phone": "tel"}}"#)
        #expect(mapping.routingChannel == "import")
        let json = try ChannelFixtures.mapping(json: #"{"channel": "partner-x", "format": "flat-json", "fields": {"phone": "tel"}}"#)
        #expect(json.routingChannel == "partner-x")
        #expect(json.defaultPhoneRegion == "CN")
        #expect(json.keepsUnmappedFields)
    }

    // MARK: Mistakes are found when the mapping is loaded

    static let brokenMappings: [(json: String, path: String)] = [
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p"}, "extras": "fields"}"#, "extras"),
        (#"{"channel": "x", "format": "xml", "fields": {"phone": "p"}}"#, "format"),
        (#"{"format": "flat-json", "fields": {"phone": "p"}}"#, "channel"),
        (#"{"channel": "x.y", "format": "flat-json", "fields": {"phone": "p"}}"#, "channel"),
        (#"{"channel": "x", "format": "flat-json", "fields": {}}"#, "fields"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"telephone": "p"}}"#, "fields.telephone"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p", "fields._is_test": "t"}}"#, "fields.fields._is_test"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "transform": ["titlecase"]}}}"#, "fields.phone.transform[0]"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "join": ["a"]}}}"#, "fields.phone"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"transform": "trim"}}}"#, "fields.phone"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "separator": "-"}}}"#, "fields.phone.separator"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "date_format": "yyyy"}}}"#, "fields.phone.date_format"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p", "submitted_at": {"from": "t", "date_format": "dd/MM/yyyy hh:mm a"}}}"#, "fields.submitted_at.date_format"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p", "submitted_at": {"from": "t", "date_format": ["iso8601", "yy-MM-dd"]}}}"#, "fields.submitted_at.date_format[1]"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p", "submitted_at": {"from": "t", "timezone": "Asia/Shanghai"}}}"#, "fields.submitted_at.timezone"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "split": {"separator": " "}}}}"#, "fields.phone.split.index"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": ["p", {"from": "q", "required": true}]}}}"#, "fields.phone.from[1].required"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "default": 5}}}"#, "fields.phone.default"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": {"from": "p", "on_invalid": "ignore"}}}"#, "fields.phone.on_invalid"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"name": "n"}}"#, "required_any"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p"}, "required_any": ["phone", "email"]}"#, "required_any[1]"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p"}, "required_any": ["name"]}"#, "required_any[0]"),
        (#"{"channel": "x", "format": "flat-json", "fields": {"phone": "p"}, "default_phone_region": "China"}"#, "default_phone_region"),
    ]

    @Test(arguments: Self.brokenMappings)
    func brokenMappingIsRejectedWithItsPath(json: String, path: String) {
        do {
            _ = try ChannelFixtures.mapping(json: json)
            Issue.record("mapping should have been rejected")
        } catch let error as ChannelMappingError {
            #expect(error.code == .invalidMapping)
            #expect(error.path == path, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func notJSONIsInvalidJSON() {
        #expect(throws: ChannelMappingError.self) { try ChannelMapping(bytes: Array("{".utf8)) }
        do {
            _ = try ChannelMapping(json: .array([]))
        } catch {
            #expect(error.code == .invalidJSON)
        }
        do {
            _ = try ChannelMapping(contentsOfFile: "/nonexistent/mapping.json")
        } catch {
            #expect(error.code == .unreadableFile)
        }
    }

    // MARK: Rules

    private func decode(_ mappingJSON: String, _ body: String) throws -> Result<DecodedLead, InboundRejection> {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping(json: mappingJSON))
        return decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.t.s"))
    }

    @Test func joinSplitTrimLowercaseAndDefaults() throws {
        let mapping = #"""
            {"channel": "t", "format": "flat-json",
             "fields": {
               "name": {"join": ["last", "first"], "separator": ""},
               "email": {"from": "mail", "transform": ["trim", "lowercase"]},
               "fields.given": {"from": "full", "split": {"separator": " ", "index": 0}},
               "fields.family": {"from": "full", "split": {"separator": " ", "index": -1}, "transform": "uppercase"},
               "fields.middle": {"from": "full", "split": {"separator": " ", "index": 5}, "default": "none"},
               "fields.tier": {"from": "tier", "default": "standard"},
               "fields.note": {"from": "note", "transform": ["collapse_spaces"]},
               "company": {"default": "个人客户"}
             }}
            """#
        let lead = try self.decode(mapping, #"{"last": "张", "first": " 伟 ", "mail": "  A@B.CN ", "full": "Ada  King Lovelace", "note": " a \n  b ", "extra": 1}"#).get()
        #expect(lead.submission.name == "张伟")
        #expect(lead.submission.email == "a@b.cn")
        #expect(lead.submission.company == "个人客户")
        #expect(
            lead.submission.fields == [
                "given": .string("Ada"), "family": .string("LOVELACE"), "middle": .string("none"),
                "tier": .string("standard"), "note": .string("a b"), "extra": .number(1),
            ])
    }

    @Test func requiredFieldIsRejectedByName() throws {
        let mapping = #"{"channel": "t", "format": "flat-json", "fields": {"phone": "p", "fields.order": {"from": "order_no", "required": true}}}"#
        let rejection = ChannelFixtures.rejection(try self.decode(mapping, #"{"p": "13800138000", "order_no": " "}"#))
        #expect(rejection?.code == .invalidField)
        #expect(rejection?.field == "order_no")
    }

    @Test func emptyRequiredAnyAcceptsLeadsWithoutContact() throws {
        let mapping = #"{"channel": "t", "format": "flat-json", "fields": {"name": "n", "phone": "p"}, "required_any": []}"#
        let lead = try self.decode(mapping, #"{"n": "Ada", "p": "x"}"#).get()
        #expect(lead.submission.phone == nil)
        #expect(lead.submission.fields["raw_phone"] == .string("x"))
    }

    @Test func ignoredExtrasAreNotCopied() throws {
        let mapping = #"{"channel": "t", "format": "flat-json", "extra": "ignore", "fields": {"phone": "p"}}"#
        let lead = try self.decode(mapping, #"{"p": "13800138000", "other": "x"}"#).get()
        #expect(lead.submission.fields.isEmpty)
    }

    @Test func testFlagAcceptsCommonSpellings() throws {
        let mapping = #"{"channel": "t", "format": "flat-json", "test_flag": "test", "fields": {"phone": "p"}}"#
        for (value, expected) in [("true", true), ("\"yes\"", true), ("1", true), ("false", false), ("\"0\"", false), ("null", false)] {
            let lead = try self.decode(mapping, #"{"p": "13800138000", "test": \#(value)}"#).get()
            #expect(lead.isTest == expected)
            #expect(lead.submission.fields["_is_test"] == .bool(expected))
        }
        let rejection = ChannelFixtures.rejection(try self.decode(mapping, #"{"p": "13800138000", "test": "maybe"}"#))
        #expect(rejection?.field == "test")
    }
}
