import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite("Channel: google-ads")
struct ChannelGoogleAdsTests {
    static let key = "rapport-demo-key"
    let decoder: MappedDecoder

    init() throws {
        self.decoder = try MappedDecoder(
            mapping: ChannelFixtures.mapping("google-ads/mapping.json"),
            configuration: .init(sharedKey: Self.key))
    }

    private func envelope(_ body: [UInt8], messageID: String = "delivery-1") -> InboundEnvelope {
        ChannelFixtures.envelope(body, routingKey: "inbound.ads.google", messageID: messageID, appID: "google-ads-cn")
    }

    /// The production sample with some of its top-level members replaced.
    private func sample(_ changes: [String: JSONValue?] = [:]) throws -> [UInt8] {
        var object = try JSONValue.parse(ChannelFixtures.bytes("google-ads/sample.json")).objectValue!
        for (key, value) in changes {
            object[key] = value
        }
        return ChannelFixtures.json(.object(object))
    }

    private static func column(_ id: String, _ value: String, name: String = "Question") -> JSONValue {
        .object(["column_id": .string(id), "column_name": .string(name), "string_value": .string(value)])
    }

    // MARK: Samples

    @Test func productionSampleDecodes() throws {
        let lead = try self.decoder.decode(self.envelope(ChannelFixtures.bytes("google-ads/sample.json"))).get()
        let submission = lead.submission
        #expect(submission.source == "google-ads-cn")
        #expect(submission.channel == "ads")
        #expect(submission.messageID == "delivery-1")
        #expect(submission.name == "陈志明")
        #expect(submission.phone == "+8613912345678")
        #expect(submission.email == "chen.zhiming@example.com")
        #expect(submission.company == "深圳云帆科技有限公司")
        #expect(submission.address == nil)
        #expect(submission.submittedAt == nil)
        #expect(lead.connector == "google-ads")
        #expect(lead.platformLeadID == "EAIaIQobChMI8ry2l7Kz-wIV1gOtBh0qUw0HEAAYASAAEgJ4_PD_BwE-lead-7f3c21")
        #expect(lead.isTest == false)
        #expect(
            submission.fields == [
                "city": .string("深圳"),
                "postal_code": .string("518057"),
                "job_title": .string("采购经理"),
                "api_version": .string("1.0"),
                "form_id": .number(40_000_000_001),
                "campaign_id": .number(21_000_000_001),
                "adgroup_id": .number(150_000_000_001),
                "creative_id": .number(680_000_000_001),
                "gcl_id": .string("EAIaIQobChMI8ry2l7Kz-wIV1gOtBh0qUw0HEAAYASAAEgJ4_PD_BwE"),
                "_platform_lead_id": .string("EAIaIQobChMI8ry2l7Kz-wIV1gOtBh0qUw0HEAAYASAAEgJ4_PD_BwE-lead-7f3c21"),
                "_is_test": .bool(false),
            ])
        #expect(submission.fields["google_key"] == nil)
    }

    @Test func testLeadIsKeptButMarked() throws {
        let lead = try self.decoder.decode(self.envelope(ChannelFixtures.bytes("google-ads/sample-test.json"))).get()
        #expect(lead.isTest)
        #expect(lead.submission.fields["_is_test"] == .bool(true))
        #expect(lead.submission.name == "FirstName LastName")
        #expect(lead.submission.phone == "+16505550123")
        #expect(lead.submission.email == "test@example.com")
        #expect(lead.submission.fields["postal_code"] == .string("94043"))
        #expect(lead.submission.fields["FIRST_NAME"] == nil)
    }

    @Test func missingTestFlagMeansProduction() throws {
        let lead = try self.decoder.decode(self.envelope(self.sample(["is_test": JSONValue?.none]))).get()
        #expect(lead.isTest == false)
        #expect(lead.submission.fields["_is_test"] == .bool(false))
    }

    // MARK: Key check

    @Test func wrongKeyIsRejected() throws {
        for key: JSONValue? in [.string("rapport-demo-kez"), .string("rapport-demo-key "), .string(""), .number(1), nil] {
            let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(try self.sample(["google_key": key]))))
            #expect(rejection?.code == .invalidField)
            #expect(rejection?.field == "google_key")
            #expect(rejection?.reason.contains("rapport-demo") == false)
        }
    }

    @Test func keyIsCheckedBeforeThePayloadShape() throws {
        let body = try self.sample(["google_key": .string("wrong"), "user_column_data": .string("garbage")])
        #expect(ChannelFixtures.rejection(self.decoder.decode(self.envelope(body)))?.field == "google_key")
    }

    @Test func decoderNeedsAConfiguredKey() throws {
        let mapping = try ChannelFixtures.mapping("google-ads/mapping.json")
        #expect(throws: ChannelMappingError.self) { try MappedDecoder(mapping: mapping) }
        do {
            _ = try MappedDecoder(mapping: mapping, configuration: .init(sharedKey: ""))
            Issue.record("an empty key must not be accepted")
        } catch {
            #expect(error.code == .missingConfiguration)
        }
    }

    // MARK: Idempotency

    @Test func resentWebhookHasTheSameIdempotencyKey() throws {
        let body = try ChannelFixtures.bytes("google-ads/sample.json")
        let first = try self.decoder.decode(self.envelope(body, messageID: "delivery-1")).get()
        let resent = try self.decoder.decode(self.envelope(body, messageID: "delivery-2")).get()
        #expect(first.submission.messageID != resent.submission.messageID)
        #expect(first.idempotencyKey == resent.idempotencyKey)
        #expect(first.idempotencyKey == "google-ads:EAIaIQobChMI8ry2l7Kz-wIV1gOtBh0qUw0HEAAYASAAEgJ4_PD_BwE-lead-7f3c21")
    }

    @Test func missingLeadIDIsRejected() throws {
        for value: JSONValue? in [nil, .string("  "), .bool(true)] {
            let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(try self.sample(["lead_id": value]))))
            #expect(rejection?.code == .invalidField)
            #expect(rejection?.field == "lead_id")
        }
    }

    // MARK: Fit to the mapping

    @Test func missingContactIsRejectedNamingTheField() throws {
        let nameOnly = try self.sample(["user_column_data": .array([Self.column("FULL_NAME", "陈志明")])])
        let none = ChannelFixtures.rejection(self.decoder.decode(self.envelope(nameOnly)))
        #expect(none?.code == .missingContact)
        #expect(none?.field == "phone,email")

        let badPhone = try self.sample(["user_column_data": .array([Self.column("PHONE_NUMBER", "12")])])
        let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(badPhone)))
        #expect(rejection?.code == .missingContact)
        #expect(rejection?.field == "phone")
        #expect(rejection?.reason.contains("PHONE_NUMBER") == true)
    }

    @Test func workColumnsAreFallbacks() throws {
        let body = try self.sample([
            "user_column_data": .array([
                Self.column("FIRST_NAME", "Wei"), Self.column("LAST_NAME", "Zhang"),
                Self.column("WORK_PHONE", "021-6288 1234"), Self.column("WORK_EMAIL", "W.Zhang@Corp.cn"),
            ])
        ])
        let lead = try self.decoder.decode(self.envelope(body)).get().submission
        #expect(lead.name == "Wei Zhang")
        #expect(lead.phone == "+862162881234")
        #expect(lead.email == "w.zhang@corp.cn")
    }

    @Test func unmappedColumnsArePreserved() throws {
        let body = try self.sample([
            "user_column_data": .array([
                Self.column("EMAIL", "a@b.cn"),
                Self.column("WORK_EMAIL", "work@b.cn"),
                Self.column("YOUR_BUDGET", "10-50万", name: "您的预算？"),
                Self.column("COUNTRY", "CN"),
            ])
        ])
        let fields = try self.decoder.decode(self.envelope(body)).get().submission.fields
        #expect(fields["YOUR_BUDGET"] == .string("10-50万"))
        #expect(fields["country"] == .string("CN"))
        // WORK_EMAIL was only a fallback for email; since EMAIL won, its value is kept too.
        #expect(fields["WORK_EMAIL"] == .string("work@b.cn"))
        #expect(fields["EMAIL"] == nil)
    }

    @Test func malformedColumnDataIsRejected() throws {
        let cases: [JSONValue] = [
            .string("x"),
            .array([.string("x")]),
            .array([.object(["string_value": .string("no id")])]),
            .array([.object(["column_id": .string("EMAIL"), "string_value": .object([:])])]),
        ]
        for value in cases {
            let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(try self.sample(["user_column_data": value]))))
            #expect(rejection?.code == .invalidField)
            #expect(rejection?.field == "user_column_data")
        }
    }

    @Test func adsRoutingKeyIsExpected() throws {
        let body = try ChannelFixtures.bytes("google-ads/sample.json")
        let wrong = ChannelFixtures.envelope(body, routingKey: "inbound.google-ads.x")
        #expect(ChannelFixtures.rejection(self.decoder.decode(wrong))?.code == .unknownRoutingKey)

        let overridden = try MappedDecoder(
            mapping: ChannelFixtures.mapping("google-ads/mapping.json"),
            configuration: .init(sharedKey: Self.key, routingChannel: "google-ads"))
        #expect(try overridden.decode(wrong).get().submission.channel == "google-ads")
        #expect(overridden.routingChannel == "google-ads")
    }
}
