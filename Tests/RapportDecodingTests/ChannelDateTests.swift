import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

/// One supported date format each, through a mapping rule for `submitted_at` and one for `fields.<key>`.
@Suite("Channel: date formats")
struct ChannelDateTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var format: String
        var timezone: String?
        var value: JSONValue
        var expected: Date
        /// What a `fields.<key>` rule stores.
        var fieldText: String

        var testDescription: String { "\(self.format) ← \(self.value.jsonString)" }
    }

    static let cases: [Case] = [
        Case(format: "iso8601", value: .string("2024-05-01T08:30:00Z"),
             expected: ChannelFixtures.utc(2024, 5, 1, 8, 30), fieldText: "2024-05-01T08:30:00Z"),
        Case(format: "iso8601", value: .string("2024-05-01 16:30:00.250+08:00"),
             expected: ChannelFixtures.utc(2024, 5, 1, 8, 30).addingTimeInterval(0.25), fieldText: "2024-05-01T08:30:00.250Z"),
        Case(format: "iso8601", value: .string("2024-05-01t08:30-0500"),
             expected: ChannelFixtures.utc(2024, 5, 1, 13, 30), fieldText: "2024-05-01T13:30:00Z"),
        Case(format: "epoch_seconds", value: .number(1_714_552_200),
             expected: ChannelFixtures.utc(2024, 5, 1, 8, 30), fieldText: "2024-05-01T08:30:00Z"),
        Case(format: "epoch_seconds", value: .string("1714552200"),
             expected: ChannelFixtures.utc(2024, 5, 1, 8, 30), fieldText: "2024-05-01T08:30:00Z"),
        Case(format: "epoch_millis", value: .number(1_714_552_200_500),
             expected: ChannelFixtures.utc(2024, 5, 1, 8, 30).addingTimeInterval(0.5), fieldText: "2024-05-01T08:30:00.500Z"),
        Case(format: "yyyy-MM-dd HH:mm:ss", timezone: "+08:00", value: .string("2024-01-01 00:20:49"),
             expected: ChannelFixtures.utc(2023, 12, 31, 16, 20, 49), fieldText: "2023-12-31T16:20:49Z"),
        Case(format: "yyyy-MM-dd HH:mm:ss", value: .string("2024-01-01 00:20:49"),
             expected: ChannelFixtures.utc(2024, 1, 1, 0, 20, 49), fieldText: "2024-01-01T00:20:49Z"),
        Case(format: "yyyy-MM-dd'T'HH:mm:ssZ", value: .string("2026-11-24T08:15:42+0000"),
             expected: ChannelFixtures.utc(2026, 11, 24, 8, 15, 42), fieldText: "2026-11-24T08:15:42Z"),
        Case(format: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", value: .string("2026-11-24T16:15:42.125+08:00"),
             expected: ChannelFixtures.utc(2026, 11, 24, 8, 15, 42).addingTimeInterval(0.125), fieldText: "2026-11-24T08:15:42.125Z"),
        Case(format: "yyyy/M/d H:mm", timezone: "+0800", value: .string("2026/1/5 9:05"),
             expected: ChannelFixtures.utc(2026, 1, 5, 1, 5), fieldText: "2026-01-05T01:05:00Z"),
        Case(format: "dd.MM.yyyy HH:mm", timezone: "-03:00", value: .string("31.12.2025 22:00"),
             expected: ChannelFixtures.utc(2026, 1, 1, 1, 0), fieldText: "2026-01-01T01:00:00Z"),
        Case(format: "yyyy年M月d日 HH:mm", timezone: "+08", value: .string("2026年11月25日 09:30"),
             expected: ChannelFixtures.utc(2026, 11, 25, 1, 30), fieldText: "2026-11-25T01:30:00Z"),
        Case(format: "excel_serial", timezone: "+08:00", value: .number(45_292.5),
             expected: ChannelFixtures.utc(2024, 1, 1, 4), fieldText: "2024-01-01T04:00:00Z"),
        Case(format: "excel_serial", value: .string("45292"),
             expected: ChannelFixtures.utc(2024, 1, 1), fieldText: "2024-01-01"),
        Case(format: "yyyyMMdd", value: .string("19241201"),
             expected: ChannelFixtures.utc(1924, 12, 1), fieldText: "1924-12-01"),
        Case(format: "yyyy-MM-dd", timezone: "+08:00", value: .string("2024-02-29"),
             expected: ChannelFixtures.utc(2024, 2, 28, 16), fieldText: "2024-02-29"),
        Case(format: "d/M/yyyy", value: .string("５/1/2026"),
             expected: ChannelFixtures.utc(2026, 1, 5), fieldText: "2026-01-05"),
    ]

    private func mapping(_ format: String, timezone: String?) -> String {
        let zone = timezone.map { #", "timezone": "\#($0)""# } ?? ""
        return #"""
            {"channel": "t", "format": "flat-json", "fields": {
              "phone": "p",
              "submitted_at": {"from": "when", "date_format": "\#(format)"\#(zone)},
              "fields.when_text": {"from": "when", "date_format": ["\#(format)"]\#(zone)}
            }}
            """#
    }

    @Test(arguments: Self.cases)
    func dateInEachSupportedFormat(_ testCase: Case) throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping(json: self.mapping(testCase.format, timezone: testCase.timezone)))
        let body = ChannelFixtures.json(.object(["p": .string("13800138000"), "when": testCase.value]))
        let lead = try decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.t.s")).get().submission
        #expect(lead.submittedAt == testCase.expected)
        #expect(lead.fields["when_text"] == .string(testCase.fieldText))
    }

    static let mismatches: [(format: String, value: JSONValue)] = [
        ("yyyy-MM-dd HH:mm:ss", .string("2024-01-01 00:20")),
        ("yyyy-MM-dd HH:mm:ss", .string("2024-02-30 00:20:00")),
        ("yyyy-MM-dd HH:mm:ss", .string("2024-01-01 24:00:00")),
        ("yyyyMMdd", .string("19371233")),
        ("yyyyMMdd", .number(19_241_201)),
        ("iso8601", .string("2024-05-01T08:30:00")),
        ("epoch_seconds", .number(1_714_552_200_000)),
        ("epoch_seconds", .string("17145x")),
        ("yyyy-MM-dd'T'HH:mm:ssZ", .string("2026-11-24T08:15:42+2500")),
        ("yyyy-MM-dd", .bool(true)),
        ("excel_serial", .number(59)),
        ("excel_serial", .string("2024-01-01")),
    ]

    @Test(arguments: Self.mismatches)
    func valueNotInTheFormatNamesTheField(format: String, value: JSONValue) throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping(json: self.mapping(format, timezone: nil)))
        let body = ChannelFixtures.json(.object(["p": .string("13800138000"), "when": value]))
        let rejection = ChannelFixtures.rejection(decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.t.s")))
        #expect(rejection?.code == .invalidField)
        #expect(rejection?.field == "when")
    }

    @Test func severalFormatsAreTriedInOrder() throws {
        let mapping = #"""
            {"channel": "t", "format": "flat-json", "fields": {"phone": "p",
              "submitted_at": {"from": "when", "date_format": ["yyyy-MM-dd HH:mm:ss", "yyyy/M/d", "epoch_millis"], "timezone": "UTC"}}}
            """#
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping(json: mapping))
        for (value, expected) in [
            (JSONValue.string("2026-01-02 03:04:05"), ChannelFixtures.utc(2026, 1, 2, 3, 4, 5)),
            (.string("2026/1/2"), ChannelFixtures.utc(2026, 1, 2)),
            (.number(1_767_323_045_000), ChannelFixtures.utc(2026, 1, 2, 3, 4, 5)),
        ] {
            let body = ChannelFixtures.json(.object(["p": .string("13800138000"), "when": value]))
            let lead = try decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.t.s")).get()
            #expect(lead.submission.submittedAt == expected)
        }
    }

    @Test func blankDateIsNoDate() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping(json: self.mapping("yyyy-MM-dd", timezone: nil)))
        let body = #"{"p": "13800138000", "when": "  "}"#
        let lead = try decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.t.s")).get()
        #expect(lead.submission.submittedAt == nil)
        #expect(lead.submission.fields["when_text"] == nil)
    }
}
