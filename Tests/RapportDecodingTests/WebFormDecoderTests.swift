import Foundation
import RapportCore
import RapportDecoding
import RapportSupport
import Testing

/// Builds a delivery that passes every envelope-level check; tests override one thing at a time.
private func envelope(
    _ body: String,
    routingKey: String = "inbound.webform.site-a",
    messageID: String? = "msg-1",
    appID: String? = nil,
    contentType: String? = "application/json"
) -> InboundEnvelope {
    InboundEnvelope(
        exchange: "rapport.inbound",
        routingKey: routingKey,
        messageID: messageID,
        appID: appID,
        contentType: contentType,
        timestamp: nil,
        body: Array(body.utf8))
}

private func rejection(_ result: Result<LeadSubmission, InboundRejection>) -> InboundRejection? {
    if case .failure(let rejection) = result { return rejection }
    return nil
}

@Suite("WebFormDecoder")
struct WebFormDecoderTests {
    let decoder = WebFormDecoder()

    // MARK: Accepted submissions

    @Test func fullValidSubmission() throws {
        let body = """
            {
              "name": "  张\u{3000}\u{3000}伟 ",
              "phone": "+86 138-0013-8000",
              "email": " Zhang.Wei@Example.COM ",
              "company": " ＡＢＣ有限公司 ",
              "address": "深圳市南山区 科技园",
              "message": "  你好，\\n请回电。  ",
              "submitted_at": "2024-05-01T08:30:00.250Z",
              "utm": {"utm_source": "baidu", "utm_campaign": "spring"},
              "fields": {"budget": 5000, "newsletter": true}
            }
            """
        let lead = try decoder.decode(envelope(body, appID: "landing-page")).get()
        #expect(lead.source == "landing-page")
        #expect(lead.channel == "webform")
        #expect(lead.messageID == "msg-1")
        #expect(lead.name == "张 伟")
        #expect(lead.phone == "+8613800138000")
        #expect(lead.email == "zhang.wei@example.com")
        #expect(lead.company == "ABC有限公司")
        #expect(lead.address == "深圳市南山区 科技园")
        #expect(lead.message == "你好,\n请回电。")
        #expect(lead.submittedAt == Date(timeIntervalSince1970: 1_714_552_200.25))
        #expect(lead.utm == ["utm_source": .string("baidu"), "utm_campaign": .string("spring")])
        #expect(lead.fields == ["budget": .number(5000), "newsletter": .bool(true)])
    }

    @Test func sourceComesFromRoutingKeyWithoutAppID() throws {
        let body = #"{"email": "a@b.co"}"#
        let lead = try decoder.decode(envelope(body, routingKey: "inbound.webform.partner.site-b", appID: "  ")).get()
        #expect(lead.source == "partner.site-b")
        #expect(lead.email == "a@b.co")
        #expect(lead.phone == nil)
        #expect(lead.fields.isEmpty)
    }

    @Test func phoneAsJSONNumber() throws {
        let lead = try decoder.decode(envelope(#"{"phone": 13800138000}"#)).get()
        #expect(lead.phone == "+8613800138000")
        let international = try decoder.decode(envelope(#"{"phone": 8613800138000}"#)).get()
        #expect(international.phone == "+8613800138000")
    }

    @Test func unknownKeysArePreservedWithoutOverwriting() throws {
        let body = """
            {"email": "a@b.co", "budget": "10k", "tags": ["x", 1], "page": null,
             "fields": {"budget": "kept"}}
            """
        let lead = try decoder.decode(envelope(body)).get()
        #expect(lead.fields["budget"] == .string("kept"))
        #expect(lead.fields["tags"] == .array([.string("x"), .number(1)]))
        #expect(lead.fields["page"] == .null)
        #expect(lead.fields.count == 3)
    }

    @Test func invalidEmailIsKeptWhenPhoneIsValid() throws {
        let lead = try decoder.decode(envelope(#"{"phone": "13800138000", "email": "not-an-email"}"#)).get()
        #expect(lead.phone == "+8613800138000")
        #expect(lead.email == nil)
        #expect(lead.fields["raw_email"] == .string("not-an-email"))
        #expect(lead.fields["raw_phone"] == nil)
    }

    @Test func invalidPhoneIsKeptWhenEmailIsValid() throws {
        let lead = try decoder.decode(envelope(#"{"phone": 12, "email": "a@b.co"}"#)).get()
        #expect(lead.email == "a@b.co")
        #expect(lead.phone == nil)
        #expect(lead.fields["raw_phone"] == .number(12))
    }

    @Test func blankContactIsNotKeptAsRaw() throws {
        let lead = try decoder.decode(envelope(#"{"phone": "  ", "email": "a@b.co"}"#)).get()
        #expect(lead.fields.isEmpty)
    }

    @Test(
        "submitted_at formats",
        arguments: [
            (#""2024-05-01T08:30:00Z""#, 1_714_552_200.0),
            (#""2024-05-01T16:30:00+08:00""#, 1_714_552_200.0),
            (#""2024-05-01T16:30:00+0800""#, 1_714_552_200.0),
            (#""2024-05-01T03:30:00.5-05:00""#, 1_714_552_200.5),
            (#""2024-05-01 08:30:00z""#, 1_714_552_200.0),
            (#""2024-02-29T00:00:00Z""#, 1_709_164_800.0),
            ("1714552200", 1_714_552_200.0),
            ("1714552200.75", 1_714_552_200.75),
        ])
    func submittedAtFormats(json: String, expected: Double) throws {
        let lead = try decoder.decode(envelope(#"{"email": "a@b.co", "submitted_at": \#(json)}"#)).get()
        #expect(lead.submittedAt == Date(timeIntervalSince1970: expected))
    }

    @Test func contentTypeParametersAndCaseAreAllowed() throws {
        let result = decoder.decode(envelope(#"{"email": "a@b.co"}"#, contentType: "Application/JSON; charset=utf-8"))
        #expect(throws: Never.self) { try result.get() }
    }

    @Test func otherChannel() throws {
        let ads = WebFormDecoder(channel: "ads")
        let lead = try ads.decode(envelope(#"{"email": "a@b.co"}"#, routingKey: "inbound.ads.tiktok")).get()
        #expect(lead.channel == "ads")
        #expect(lead.source == "tiktok")
        #expect(rejection(ads.decode(envelope(#"{"email": "a@b.co"}"#)))?.code == .unknownRoutingKey)
    }

    @Test func defaultPhoneRegion() throws {
        let hk = WebFormDecoder(defaultPhoneRegion: "HK")
        let lead = try hk.decode(envelope(#"{"phone": "9123 4567"}"#)).get()
        #expect(lead.phone == "+85291234567")
    }

    // MARK: Rejections, in check order

    @Test func bodyTooLarge() {
        let small = WebFormDecoder(maxBodyBytes: 16)
        let rejected = rejection(small.decode(envelope(#"{"email": "someone@example.com"}"#, contentType: nil)))
        #expect(rejected?.code == .bodyTooLarge)
        #expect(rejected?.field == nil)
        #expect(rejected?.reason.contains("16") == true)
    }

    @Test(
        "wrong content type",
        arguments: [nil, "", "text/plain", "application/jsonp", "application/x-www-form-urlencoded"] as [String?])
    func wrongContentType(contentType: String?) {
        let rejected = rejection(decoder.decode(envelope(#"{"email": "a@b.co"}"#, messageID: nil, contentType: contentType)))
        #expect(rejected?.code == .wrongContentType)
        #expect(rejected?.field == "content_type")
    }

    @Test("missing message ID", arguments: [nil, "", "   "] as [String?])
    func missingMessageID(messageID: String?) {
        let rejected = rejection(decoder.decode(envelope(#"{"email": "a@b.co"}"#, routingKey: "nope", messageID: messageID)))
        #expect(rejected?.code == .missingMessageID)
        #expect(rejected?.field == "message_id")
    }

    @Test(
        "unknown routing key",
        arguments: ["inbound.webform", "inbound.webform.", "inbound.ads.site-a", "webform.site-a", "inbound.webform..x", "x.inbound.webform.a"])
    func unknownRoutingKey(routingKey: String) {
        let rejected = rejection(decoder.decode(envelope("not json", routingKey: routingKey, appID: "app")))
        #expect(rejected?.code == .unknownRoutingKey)
        #expect(rejected?.field == "routing_key")
    }

    @Test(
        "invalid JSON",
        arguments: [
            ("", "empty"),
            (#"{"email": "a@b.co""#, "not valid JSON"),
            (#"{"email": 'a@b.co'}"#, "not valid JSON"),
            (#"{"email": "a@b.co"} trailing"#, "not valid JSON"),
            (#"[{"email": "a@b.co"}]"#, "top level is an array, not an object"),
            (#""a@b.co""#, "top level is a string, not an object"),
            ("null", "top level is null, not an object"),
        ])
    func invalidJSON(body: String, expectedReason: String) {
        let rejected = rejection(decoder.decode(envelope(body)))
        #expect(rejected?.code == .invalidJSON)
        #expect(rejected?.field == nil)
        #expect(rejected?.reason.contains(expectedReason) == true, "\(rejected?.reason ?? "nil")")
    }

    @Test func invalidUTF8() {
        var delivery = envelope("")
        delivery.body = Array(#"{"name": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let rejected = rejection(decoder.decode(delivery))
        #expect(rejected?.code == .invalidJSON)
        #expect(rejected?.reason.contains("UTF-8") == true)
        #expect(rejected?.reason.contains("offset 10") == true, "\(rejected?.reason ?? "nil")")
    }

    @Test func parseErrorSaysWhere() {
        let rejected = rejection(decoder.decode(envelope(#"{"email": "a@b.co", x}"#)))
        #expect(rejected?.reason.hasPrefix("Body is not valid JSON: ") == true)
        #expect(rejected?.reason.contains("at byte 20") == true, "\(rejected?.reason ?? "nil")")
        #expect(rejected?.reason.hasSuffix(".") == true)
    }

    @Test(
        "invalid fields",
        arguments: [
            (#"{"email": "a@b.co", "name": 42}"#, "name"),
            (#"{"email": "a@b.co", "company": ["x"]}"#, "company"),
            (#"{"email": "a@b.co", "address": {"city": "x"}}"#, "address"),
            (#"{"email": "a@b.co", "message": true}"#, "message"),
            (#"{"email": 5, "phone": "13800138000"}"#, "email"),
            (#"{"phone": 13800138000.5}"#, "phone"),
            (#"{"phone": -13800138000}"#, "phone"),
            (#"{"phone": ["13800138000"]}"#, "phone"),
            (#"{"email": "a@b.co", "submitted_at": "yesterday"}"#, "submitted_at"),
            (#"{"email": "a@b.co", "submitted_at": "2024-05-01T08:30:00"}"#, "submitted_at"),
            (#"{"email": "a@b.co", "submitted_at": "2024-02-30T08:30:00Z"}"#, "submitted_at"),
            (#"{"email": "a@b.co", "submitted_at": 1714552200000}"#, "submitted_at"),
            (#"{"email": "a@b.co", "submitted_at": true}"#, "submitted_at"),
            (#"{"email": "a@b.co", "utm": "utm_source=x"}"#, "utm"),
            (#"{"email": "a@b.co", "fields": [1, 2]}"#, "fields"),
        ])
    func invalidField(body: String, field: String) {
        let rejected = rejection(decoder.decode(envelope(body)))
        #expect(rejected?.code == .invalidField)
        #expect(rejected?.field == field)
        #expect(rejected?.reason.contains("'\(field)'") == true, "\(rejected?.reason ?? "nil")")
    }

    @Test func missingContactWithInvalidPhone() {
        let rejected = rejection(decoder.decode(envelope(#"{"name": "Li", "phone": "12"}"#)))
        #expect(rejected?.code == .missingContact)
        #expect(rejected?.field == "phone")
        #expect(rejected?.reason == "phone '12' is not a valid phone number and no email was given.")
    }

    @Test func missingContactWithBothInvalid() {
        let rejected = rejection(decoder.decode(envelope(#"{"phone": "12", "email": "x@y"}"#)))
        #expect(rejected?.code == .missingContact)
        #expect(rejected?.reason == "phone '12' is not a valid phone number and email 'x@y' is not a valid email address.")
    }

    @Test func missingContactWithInvalidEmail() {
        let rejected = rejection(decoder.decode(envelope(#"{"email": "nobody"}"#)))
        #expect(rejected?.code == .missingContact)
        #expect(rejected?.field == "email")
        #expect(rejected?.reason == "email 'nobody' is not a valid email address and no phone was given.")
    }

    @Test func missingContactWithNeither() {
        let rejected = rejection(decoder.decode(envelope(#"{"name": "Li", "phone": null, "email": ""}"#)))
        #expect(rejected?.code == .missingContact)
        #expect(rejected?.field == nil)
    }

    @Test func reasonNeverQuotesALongValue() {
        let long = String(repeating: "9", count: 500)
        let rejected = rejection(decoder.decode(envelope(#"{"phone": "\#(long)"}"#)))
        #expect(rejected?.code == .missingContact)
        #expect((rejected?.reason.count ?? 0) < 150)
    }

    @Test func rejectionCodesHaveStableRawValues() {
        let codes: [(RejectionCode, String)] = [
            (.invalidJSON, "invalid_json"), (.wrongContentType, "wrong_content_type"),
            (.missingMessageID, "missing_message_id"), (.missingSource, "missing_source"),
            (.missingContact, "missing_contact"), (.invalidField, "invalid_field"),
            (.bodyTooLarge, "body_too_large"), (.unknownRoutingKey, "unknown_routing_key"),
            (.storageRejected, "storage_rejected"), (.deliveryLimit, "delivery_limit"),
        ]
        for (code, raw) in codes {
            #expect(code.rawValue == raw)
            #expect(code.description == raw)
            #expect(RejectionCode(rawValue: raw) == code)
        }
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test func jsonStringIsCompactSortedAndDeterministic() {
        let value: JSONValue = .object([
            "b": .number(1), "a": .array([.bool(true), .null, .number(-2.5)]), "aa": .string("x"),
            "Z": .object(["y": .number(13_800_138_000), "x": .number(0.1)]),
        ])
        let expected = #"{"Z":{"x":0.1,"y":13800138000},"a":[true,null,-2.5],"aa":"x","b":1}"#
        #expect(value.jsonString == expected)
        // Same content built in another insertion order gives the same text.
        var members: [String: JSONValue] = [:]
        for key in ["aa", "Z", "b", "a"] { members[key] = value.objectValue?[key] }
        #expect(JSONValue.object(members).jsonString == expected)
    }

    @Test func numbersPrintWithoutTrailingZero() {
        #expect(JSONValue.number(42).jsonString == "42")
        #expect(JSONValue.number(-0.0).jsonString == "0")
        #expect(JSONValue.number(1e15).jsonString == "1000000000000000")
        #expect(JSONValue.number(0.5).jsonString == "0.5")
        #expect(JSONValue.number(.infinity).jsonString == "null")
    }

    @Test func escapes() {
        let value = JSONValue.string("quote\" backslash\\ nl\n cr\r tab\t bell\u{07} nul\u{00} é 中文 😀 /")
        #expect(value.jsonString == #""quote\" backslash\\ nl\n cr\r tab\t bell\u0007 nul\u0000 é 中文 😀 /""#)
    }

    @Test(
        "round-trips through parse",
        arguments: [
            JSONValue.null, .bool(false), .number(0), .number(-17), .number(3.141592653589793), .number(1e-7),
            .number(1.5e300), .number(9_007_199_254_740_992), .string(""), .string("é\u{301} 中文 😀 \u{1F} \"\\/"),
            .array([]), .object([:]),
            .object([
                "utm": .object(["utm_source": .string("百度"), "n": .number(2)]),
                "list": .array([.null, .bool(true), .string("line1\nline2"), .array([.object(["k": .string("\u{2028}")])])]),
                "key with \"quotes\"": .string("\t"),
            ]),
        ])
    func roundTrip(value: JSONValue) throws {
        let text = value.jsonString
        let parsed = try JSONValue.parse(Array(text.utf8))
        #expect(parsed == value)
        #expect(parsed.jsonString == text)
    }

    @Test func parseDistinguishesBooleansAndNumbers() throws {
        let parsed = try JSONValue.parse(Array(#"[true, 1, 0, false, "1", 1.0, -0]"#.utf8))
        #expect(parsed == .array([.bool(true), .number(1), .number(0), .bool(false), .string("1"), .number(1), .number(0)]))
    }

    @Test func parseDecodesEscapes() throws {
        let parsed = try JSONValue.parse(Array(#"{"a":"\u00e9\n\ud83d\ude00\/"}"#.utf8))
        #expect(parsed == .object(["a": .string("é\n😀/")]))
    }

    @Test(
        "parse rejects invalid JSON",
        arguments: [
            "", " ", "{", "[1,2", "{'a':1}", "{\"a\":01}", "{\"a\":\"\\x\"}", "{\"a\":\"x\ny\"}", "[1,]", "{\"a\" 1}",
            "tru", "1e400", "{} {}", "NaN", "\"\\ud800\"", "{\"a\":1,}", "[1 ,\n ]", "[[1,],2]",
        ])
    func parseRejects(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func commasInsideStringsAreNotTrailingCommas() throws {
        let parsed = try JSONValue.parse(Array(#"{"a": ",]", "b\\": [",}", "\\\",]"]}"#.utf8))
        #expect(parsed == .object(["a": .string(",]"), "b\\": .array([.string(",}"), .string("\\\",]")])]))
    }

    @Test func trailingCommaErrorSaysWhere() {
        #expect(throws: JSONValue.ParseError(reason: "trailing comma at byte 7", byteOffset: 7)) {
            try JSONValue.parse(Array(#"{"a":1 , }"#.utf8))
        }
    }

    @Test func parseRejectsInvalidUTF8AndNUL() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([0x7B, 0x00, 0x7D, 0x00]) }
    }

    @Test func codableMatchesJSONString() throws {
        let value: JSONValue = .object(["b": .array([.number(1), .string("x")]), "a": .null])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(try JSONValue.parse(Array(data)) == value)
    }

    @Test func accessors() {
        #expect(JSONValue.string("x").stringValue == "x")
        #expect(JSONValue.number(1).stringValue == nil)
        #expect(JSONValue.object(["a": .null]).objectValue == ["a": .null])
        #expect(JSONValue.array([]).objectValue == nil)
    }
}

@Suite struct ImportIdentityTests {
    func env(_ body: String) -> InboundEnvelope {
        InboundEnvelope(exchange: "rapport.inbound", routingKey: "inbound.import.crm", messageID: "m1", appID: "crm",
                        contentType: "application/json", body: Array(body.utf8))
    }

    @Test func importsMayIdentifyByNameAndAddressOrIDs() throws {
        var d = WebFormDecoder(channel: "import")
        d.acceptsOtherIdentity = true
        let a = try d.decode(self.env(#"{"name":"imogen tsakiridis","address":"5 terrigal crescent"}"#)).get()
        #expect(a.phone == nil && a.email == nil && a.address == "5 terrigal crescent")
        let b = try d.decode(self.env(#"{"name":"simon george","fields":{"national_id":"9932427"}}"#)).get()
        #expect(b.fields["national_id"] == .string("9932427"))
        // A name alone identifies nobody.
        guard case .failure(let r) = d.decode(self.env(#"{"name":"张伟"}"#)) else { Issue.record("accepted"); return }
        #expect(r.code == .missingContact)
        // Web forms keep requiring a contact.
        let web = WebFormDecoder(channel: "import")
        guard case .failure = web.decode(self.env(#"{"name":"a b","address":"x"}"#)) else { Issue.record("accepted"); return }
    }
}
