import Foundation
import Testing
@testable import RapportSupport

@Suite struct JSONParserTests {
    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONValue.parse(Array(ok.utf8)) }
    }

    @Test(arguments: [#""\ud800""#, #""\udc00x""#, #""\ud83dx""#, #""\u12g4""#, #""\q""#, "\"a\u{01}\"", "01", "1.", "-", "1e", "+1", "tru", "nul"])
    func rejects(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func numbers() throws {
        let v = try JSONValue.parse(Array(#"[0, -0, 12, -7, 1.5, 1e3, 2E-2, 13800138000, 123456789012345678901]"#.utf8))
        #expect(v == .array([.number(0), .number(-0.0), .number(12), .number(-7), .number(1.5), .number(1000), .number(0.02),
                             .number(13_800_138_000), .number(123456789012345683968)]))
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array("1e400".utf8)) }
    }

    @Test func escapesAndSurrogatePairs() throws {
        let v = try JSONValue.parse(Array(#"{"k":"a\"b\\c\/d\n\u5f20\ud83d\ude00"}"#.utf8))
        #expect(v.objectValue?["k"] == .string("a\"b\\c/d\n张😀"))
    }

    @Test func errorsSayWhere() {
        #expect(throws: JSONValue.ParseError(reason: "expected ',' or '}' at byte 9", byteOffset: 9)) {
            try JSONValue.parse(Array(#"{"a": 1  2}"#.utf8))
        }
        #expect(throws: JSONValue.ParseError(reason: "unexpected end of data", byteOffset: 7)) {
            try JSONValue.parse(Array(#"{"a": 1"#.utf8))
        }
    }
}
