import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite("Channel: facebook-lead-ads")
struct ChannelFacebookTests {
    let decoder: MappedDecoder

    init() throws {
        self.decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("facebook-lead-ads/mapping.json"))
    }

    private func envelope(_ body: [UInt8], messageID: String = "fb-delivery-1") -> InboundEnvelope {
        ChannelFixtures.envelope(body, routingKey: "inbound.ads.meta", messageID: messageID)
    }

    private func sample(_ changes: [String: JSONValue?]) throws -> [UInt8] {
        var object = try JSONValue.parse(ChannelFixtures.bytes("facebook-lead-ads/sample.json")).objectValue!
        for (key, value) in changes {
            object[key] = value
        }
        return ChannelFixtures.json(.object(object))
    }

    /// Meta's webhook signature, when a relay passes it on: HMAC-SHA256 of the raw body under the app secret.
    @Test func aRelayedHubSignatureIsChecked() throws {
        var configuration = MappedDecoder.Configuration()
        configuration.hubSecret = "app-secret"
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("facebook-lead-ads/mapping.json"), configuration: configuration)
        let body = try ChannelFixtures.bytes("facebook-lead-ads/sample.json")
        func verdict(_ header: String?, body: [UInt8] = body) -> String? {
            var e = self.envelope(body)
            e.securityHeaders[MappedDecoder.hubSignatureHeader] = header
            if case .failure(let r) = decoder.decode(e) { return r.code.rawValue }
            return nil
        }
        let good = "sha256=" + Hex.encode(HMACSHA256.mac(key: Array("app-secret".utf8), message: body))
        #expect(verdict(good) == nil)
        #expect(verdict(good.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256=")) == nil)
        #expect(verdict("sha256=" + Hex.encode(HMACSHA256.mac(key: Array("other".utf8), message: body))) == "bad_signature")
        #expect(verdict(good, body: try self.sample(["id": .string("1")])) == "bad_signature")
        #expect(verdict("sha1=abc") == "bad_signature")
        // Without the header (a relay that does not pass it on) the lead is decoded as before.
        #expect(verdict(nil) == nil)
    }

    @Test func facebookSampleDecodes() throws {
        let lead = try self.decoder.decode(self.envelope(ChannelFixtures.bytes("facebook-lead-ads/sample.json"))).get()
        let submission = lead.submission
        #expect(submission.source == "meta")
        #expect(submission.channel == "ads")
        #expect(submission.name == "王芳")
        #expect(submission.phone == "+8613912345678")
        #expect(submission.email == "wangfang@163.com")
        #expect(submission.company == "杭州青禾文化传媒有限公司")
        #expect(submission.submittedAt == ChannelFixtures.utc(2026, 11, 24, 8, 15, 42))
        #expect(lead.platformLeadID == "1183264412345678")
        #expect(lead.idempotencyKey == "facebook-lead-ads:1183264412345678")
        #expect(lead.isTest == false)
        #expect(
            submission.fields == [
                "city": .string("杭州"),
                "which_products_are_you_interested_in?": .string("CRM, 营销自动化"),
                "ad_id": .string("120210000000000001"),
                "ad_name": .string("冬季促销-线索表单"),
                "adset_id": .string("120210000000000002"),
                "adset_name": .string("华东-25-45岁"),
                "campaign_id": .string("120210000000000003"),
                "campaign_name": .string("2026冬季获客"),
                "form_id": .string("987654321098765"),
                "is_organic": .bool(false),
                "platform": .string("fb"),
                "_platform_lead_id": .string("1183264412345678"),
            ])
        // No test flag in the Graph API lead, so none is recorded.
        #expect(submission.fields[DecodedLead.isTestKey] == nil)
    }

    @Test func instagramSampleUsesFallbacksAndKeepsTheRawPhone() throws {
        let lead = try self.decoder.decode(self.envelope(ChannelFixtures.bytes("facebook-lead-ads/sample-instagram.json"))).get()
        let submission = lead.submission
        #expect(submission.name == "Mei Lin")
        #expect(submission.email == "mei.lin@example.sg")
        #expect(submission.phone == nil)
        #expect(submission.submittedAt == ChannelFixtures.utc(2026, 11, 25, 1, 2, 3))
        #expect(submission.fields["raw_phone"] == .string("not given"))
        #expect(submission.fields["job_title"] == .string("Marketing Director"))
        #expect(submission.fields["country"] == .string("SG"))
        #expect(submission.fields["platform"] == .string("ig"))
    }

    @Test func republishedLeadHasTheSameIdempotencyKey() throws {
        let body = try ChannelFixtures.bytes("facebook-lead-ads/sample.json")
        let first = try self.decoder.decode(self.envelope(body, messageID: "a")).get()
        let again = try self.decoder.decode(self.envelope(body, messageID: "b")).get()
        #expect(first.idempotencyKey == again.idempotencyKey)
    }

    @Test func createdTimeInAnotherFormatNamesTheField() throws {
        let rejection = ChannelFixtures.rejection(
            self.decoder.decode(self.envelope(try self.sample(["created_time": .string("24/11/2026 08:15")]))))
        #expect(rejection?.code == .invalidField)
        #expect(rejection?.field == "created_time")
        #expect(rejection?.reason.contains("submitted_at") == true)
        #expect(rejection?.reason.contains("yyyy-MM-dd'T'HH:mm:ssZ") == true)
    }

    @Test func malformedFieldDataIsRejected() throws {
        let cases: [JSONValue] = [
            .object([:]),
            .array([.object(["values": .array([.string("x")])])]),
            .array([.object(["name": .string("email"), "values": .array([.object([:])])])]),
        ]
        for value in cases {
            let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(try self.sample(["field_data": value]))))
            #expect(rejection?.code == .invalidField)
            #expect(rejection?.field == "field_data")
        }
    }

    @Test func missingContactIsRejectedNamingTheField() throws {
        let body = try self.sample([
            "field_data": .array([
                .object(["name": .string("full_name"), "values": .array([.string("王芳")])]),
                .object(["name": .string("email"), "values": .array([.string("wangfang at 163")])]),
            ])
        ])
        let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(body)))
        #expect(rejection?.code == .missingContact)
        #expect(rejection?.field == "email")
    }

    @Test func missingLeadIDIsRejected() throws {
        let rejection = ChannelFixtures.rejection(self.decoder.decode(self.envelope(try self.sample(["id": JSONValue?.none]))))
        #expect(rejection?.code == .invalidField)
        #expect(rejection?.field == "id")
    }

    @Test func fieldNamedLikeATopLevelKeyIsStillKept() throws {
        let body = try self.sample([
            "field_data": .array([
                .object(["name": .string("email"), "values": .array([.string("a@b.cn")])]),
                .object(["name": .string("platform"), "values": .array([.string("answer")])]),
            ])
        ])
        let fields = try self.decoder.decode(self.envelope(body)).get().submission.fields
        #expect(fields["platform"] == .string("fb"))
        #expect(fields["field_data.platform"] == .string("answer"))
    }
}
