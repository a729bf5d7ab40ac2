import RapportSupport
import Testing
@testable import RapportCore

struct FieldChangeTests {
    @Test func onlyWhatChangedIsRecordedAndObjectsByKey() {
        let old: [String: JSONValue] = ["name": "张伟", "level": "B", "tags": .array(["vip"]), "owner": .null,
                                        "custom": .object(["tier": "A", "budget": .number(10)])]
        let new: [String: JSONValue] = ["name": "张伟", "level": "A", "tags": .array(["vip", "key"]), "owner": "rep-1",
                                        "custom": .object(["tier": "A", "signed_on": "2026-01-02"])]
        #expect(FieldChange.between(old, new) == [
            FieldChange(field: "custom.budget", old: .number(10), new: nil),
            FieldChange(field: "custom.signed_on", old: nil, new: "2026-01-02"),
            FieldChange(field: "level", old: "B", new: "A"),
            FieldChange(field: "owner", old: nil, new: "rep-1"),
            FieldChange(field: "tags", old: .array(["vip"]), new: .array(["vip", "key"])),
        ])
    }

    @Test func noChangeIsEmpty() {
        let r: [String: JSONValue] = ["name": "李娜", "phones": .array(["+8613800138000"]), "note": .null]
        #expect(FieldChange.between(r, r.filter { $0.key != "note" }).isEmpty)
    }
}
