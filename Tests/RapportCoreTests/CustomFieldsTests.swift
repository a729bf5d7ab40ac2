import RapportSupport
import Testing
@testable import RapportCore

struct CustomFieldsTests {
    static func fields() throws -> CustomFields {
        CustomFields([
            try CustomFieldDefinition(key: "budget", label: "预算", kind: .number),
            try CustomFieldDefinition(key: "signed_on", label: "签约日期", kind: .date),
            try CustomFieldDefinition(key: "tier", label: "等级", kind: .option, options: ["A", "B", "C"], required: true),
            try CustomFieldDefinition(key: "note", label: "备注", kind: .text, maxLength: 5),
        ])
    }

    @Test func valuesAreNormalizedAsStored() throws {
        let v = try Self.fields().validate(["budget": .string(" 12.5 "), "signed_on": .string("2026-02-28"),
                                            "tier": .string("B "), "note": .string("  好客户 ")])
        #expect(v == ["budget": .number(12.5), "signed_on": .string("2026-02-28"), "tier": .string("B"), "note": .string("好客户")])
    }

    @Test(arguments: [
        ("budget", JSONValue.string("a lot"), "invalid"), ("budget", .bool(true), "invalid"),
        ("signed_on", .string("2026-02-30"), "invalid"), ("signed_on", .number(20260101), "invalid"),
        ("tier", .string("D"), "invalid"), ("note", .string("太长的备注内容"), "invalid"), ("colour", .string("red"), "unknown_field"),
    ])
    func badValuesAreRefusedNamingTheField(_ key: String, _ value: JSONValue, _ code: String) throws {
        var values: [String: JSONValue] = ["tier": "A"]
        values[key] = value
        let f = try Self.fields()
        do {
            _ = try f.validate(values)
            Issue.record("\(key) = \(value) was accepted")
        } catch {
            #expect(error.code.rawValue == code)
            #expect(error.field == key)
        }
    }

    @Test func requiredFieldsAreCheckedOnTheMergedRecord() throws {
        let f = try Self.fields()
        #expect(throws: CustomFieldError.self) { try f.validate(["budget": .number(1)]) }
        // An edit need not repeat a required value, but a blank removes it.
        let current: [String: JSONValue] = ["tier": "A"]
        #expect(try f.validate(["budget": .number(2)], merging: current) == ["tier": "A", "budget": .number(2)])
        do {
            _ = try f.validate(["tier": .string(" ")], merging: current)
            Issue.record("a blank required field was accepted")
        } catch {
            #expect(error.code == .missing && error.field == "tier")
        }
    }

    @Test(arguments: ["Budget", "1st", "", "a-b", String(repeating: "x", count: 41)])
    func badKeysAreRefused(_ key: String) {
        #expect(throws: CustomFieldError.self) { try CustomFieldDefinition(key: key, label: "x", kind: .text) }
    }

    @Test func optionFieldsNeedDistinctOptionsAndOthersNone() {
        #expect(throws: CustomFieldError.self) { try CustomFieldDefinition(key: "t", label: "t", kind: .option) }
        #expect(throws: CustomFieldError.self) { try CustomFieldDefinition(key: "t", label: "t", kind: .option, options: ["A", "A"]) }
        #expect(throws: CustomFieldError.self) { try CustomFieldDefinition(key: "t", label: "t", kind: .text, options: ["A"]) }
    }
}
