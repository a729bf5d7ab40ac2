import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite("Channel: webform")
struct ChannelWebFormTests {
    let mapped: MappedDecoder
    let reference = WebFormDecoder()

    init() throws {
        self.mapped = try MappedDecoder(mapping: ChannelFixtures.fixtureMapping("rapport-fields.mapping.json"))
    }

    // MARK: Same result as WebFormDecoder

    static let parityBodies: [String] = [
        // connectors/webform/sample.json is checked separately; these cover the other paths.
        """
        {"name": "  张\u{3000}\u{3000}伟 ", "phone": "+86 138-0013-8000", "email": " Zhang.Wei@Example.COM ",
         "company": " ＡＢＣ有限公司 ", "address": "深圳市南山区 科技园", "message": "  你好，\\n请回电。  ",
         "submitted_at": "2024-05-01T08:30:00.250Z", "utm": {"utm_source": "baidu", "utm_campaign": "spring"},
         "fields": {"budget": 5000, "newsletter": true}}
        """,
        #"{"phone": 13800138000, "submitted_at": 1714552200, "plan": "pro", "seats": 12, "note": null}"#,
        #"{"email": "a@b.cn", "phone": "12345", "name": ""}"#,
        #"{"phone": "138 0013 8000", "email": "not-an-address", "fields": {"plan": "kept"}, "plan": "dropped"}"#,
        #"{"email": "Li@Example.cn", "submitted_at": "2024-05-01 08:30+08", "company": null, "utm": null}"#,
        #"{"phone": "０７５５ ８８８８ ８８８８", "address": "  ", "message": "第一行\n第二行"}"#,
    ]

    @Test(arguments: Self.parityBodies)
    func sameSubmissionAsWebFormDecoder(body: String) throws {
        let envelope = ChannelFixtures.envelope(body, appID: "landing-page")
        let expected = try self.reference.decode(envelope).get()
        let decoded = try self.mapped.decode(envelope).get()
        #expect(decoded.submission == expected)
        #expect(decoded.platformLeadID == nil)
        #expect(decoded.isTest == false)
        #expect(decoded.idempotencyKey == "msg-1")
    }

    @Test func sampleFileMatchesWebFormDecoder() throws {
        let envelope = ChannelFixtures.envelope(try ChannelFixtures.bytes("webform/sample.json"))
        let expected = try self.reference.decode(envelope).get()
        let decoded = try self.mapped.decode(envelope).get().submission
        #expect(decoded == expected)
        #expect(decoded.name == "张伟")
        #expect(decoded.phone == "+8613800138000")
        #expect(decoded.email == "zhang.wei@example.cn")
        #expect(decoded.submittedAt == ChannelFixtures.utc(2026, 11, 25, 1, 30))
        #expect(decoded.fields == ["budget": .string("10-50万"), "seats": .number(40)])
    }

    static let rejectedBodies: [String] = [
        #"{"name": 5, "phone": "13800138000"}"#,
        #"{"phone": [1], "email": "a@b.cn"}"#,
        #"{"phone": -5, "email": "a@b.cn"}"#,
        #"{"phone": "13800138000", "utm": "baidu"}"#,
        #"{"phone": "13800138000", "submitted_at": "yesterday"}"#,
        #"{"phone": "13800138000", "submitted_at": 1714552200000}"#,
        #"{"phone": "12345", "email": "nope"}"#,
        #"{"phone": "12345"}"#,
        #"[1, 2]"#,
        #"{"name": "#,
    ]

    @Test(arguments: Self.rejectedBodies)
    func sameRejectionCodeAsWebFormDecoder(body: String) {
        let envelope = ChannelFixtures.envelope(body)
        let expected = ChannelFixtures.rejection(self.reference.decode(envelope))
        let rejection = ChannelFixtures.rejection(self.mapped.decode(envelope))
        #expect(expected != nil)
        #expect(rejection?.code == expected?.code)
        #expect(rejection?.field == expected?.field)
    }

    @Test func nothingGivenNamesBothContactFields() {
        let rejection = ChannelFixtures.rejection(self.mapped.decode(ChannelFixtures.envelope(#"{"name": "张伟"}"#)))
        #expect(rejection?.code == .missingContact)
        #expect(rejection?.field == "phone,email")
    }

    // MARK: Envelope checks

    @Test func envelopeChecksMatchWebFormDecoder() {
        let body = #"{"phone": "13800138000"}"#
        let cases: [(InboundEnvelope, RejectionCode)] = [
            (ChannelFixtures.envelope(body, contentType: "text/plain"), .wrongContentType),
            (ChannelFixtures.envelope(body, contentType: nil), .wrongContentType),
            (ChannelFixtures.envelope(body, messageID: "  "), .missingMessageID),
            (ChannelFixtures.envelope(body, routingKey: "inbound.ads.site-a"), .unknownRoutingKey),
            (ChannelFixtures.envelope(body, routingKey: "inbound.webform."), .unknownRoutingKey),
            (ChannelFixtures.envelope(Array(repeating: UInt8(ascii: " "), count: 70_000)), .bodyTooLarge),
        ]
        for (envelope, code) in cases {
            #expect(ChannelFixtures.rejection(self.mapped.decode(envelope))?.code == code)
            #expect(ChannelFixtures.rejection(self.reference.decode(envelope))?.code == code)
        }
    }

    @Test func sourceComesFromAppIDThenRoutingKey() throws {
        let body = #"{"phone": "13800138000"}"#
        let fromRouting = try self.mapped.decode(ChannelFixtures.envelope(body, routingKey: "inbound.webform.site-b.eu")).get()
        #expect(fromRouting.submission.source == "site-b.eu")
        #expect(fromRouting.submission.channel == "webform")
        let fromAppID = try self.mapped.decodeSubmission(ChannelFixtures.envelope(body, appID: " cms ")).get()
        #expect(fromAppID.source == "cms")
    }

    @Test func payloadCannotSetReservedKeys() throws {
        let body = #"{"phone": "13800138000", "_is_test": true, "_platform_lead_id": "x", "fields": {"_is_test": true}}"#
        let decoded = try self.mapped.decode(ChannelFixtures.envelope(body)).get()
        #expect(decoded.submission.fields[DecodedLead.isTestKey] == nil)
        #expect(decoded.submission.fields[DecodedLead.platformLeadIDKey] == nil)
        #expect(decoded.isTest == false)
    }

    // MARK: A new form with other field names: only a mapping file

    @Test func landingPageMappingDecodesItsSample() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("webform/landing-page.mapping.json"))
        let envelope = ChannelFixtures.envelope(
            try ChannelFixtures.bytes("webform/sample-landing-page.json"), routingKey: "inbound.webform.jinshuju")
        let lead = try decoder.decode(envelope).get().submission
        #expect(lead.source == "jinshuju")
        #expect(lead.name == "刘洋")
        #expect(lead.phone == "+8613912345678")
        #expect(lead.email == "liuyang@example.com")
        #expect(lead.company == "苏州恒远精密机械有限公司")
        #expect(lead.address == "江苏省苏州市工业园区星湖街328号")
        #expect(lead.message == "请发一份产品手册。")
        #expect(lead.submittedAt == ChannelFixtures.utc(2026, 11, 25, 1, 5))
        #expect(lead.utm == ["utm_source": .string("baidu"), "utm_medium": .string("cpc"), "utm_campaign": .string("winter")])
        // Unmapped 意向产品 is kept, _token is dropped, the missing 表单名称 takes its default.
        #expect(lead.fields == ["意向产品": .string("数控机床"), "form_name": .string("未命名表单")])
    }

    @Test func landingPageFallsBackToSecondNameField() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("webform/landing-page.mapping.json"))
        let body = #"{"联系人": "周敏", "手机号": "13600001111", "表单名称": "春季活动"}"#
        let lead = try decoder.decode(ChannelFixtures.envelope(body)).get().submission
        #expect(lead.name == "周敏")
        #expect(lead.fields == ["form_name": .string("春季活动")])
    }
}
