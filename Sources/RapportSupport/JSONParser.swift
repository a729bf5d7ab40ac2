/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Hand-written because inbound bodies are parsed on the hot path: `JSONDecoder` into an enum costs
/// tens of microseconds a message (every failed `try?` branch throws). This one is a single pass,
/// says what was wrong and at which byte, and bounds nesting so hostile input cannot exhaust the stack.
struct JSONParser {
    static let maxDepth = 256

    private let b: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    private init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    static func parse(_ bytes: [UInt8]) throws(JSONValue.ParseError) -> JSONValue {
        let result: Result<JSONValue, JSONValue.ParseError> = bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            do throws(JSONValue.ParseError) { return .success(try p.document()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> JSONValue.ParseError {
        let at = offset ?? self.i
        if at >= self.b.count { return JSONValue.ParseError(reason: "unexpected end of data", byteOffset: at) }
        return JSONValue.ParseError(reason: "\(reason) at byte \(at)", byteOffset: at)
    }

    private mutating func document() throws(JSONValue.ParseError) -> JSONValue {
        if self.b.isEmpty { throw JSONValue.ParseError(reason: "the data is empty", byteOffset: 0) }
        if self.b.count >= 3, self.b[0] == 0xEF, self.b[1] == 0xBB, self.b[2] == 0xBF { self.i = 3 }
        self.skipWhitespace()
        let v = try self.value()
        self.skipWhitespace()
        if self.i < self.b.count { throw self.fail("unexpected data after the value") }
        return v
    }

    private mutating func skipWhitespace() {
        while self.i < self.b.count {
            switch self.b[self.i] {
            case 0x20, 0x09, 0x0A, 0x0D: self.i += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONValue.ParseError) -> JSONValue {
        guard self.i < self.b.count else { throw self.fail("") }
        switch self.b[self.i] {
        case UInt8(ascii: "{"): return try self.object()
        case UInt8(ascii: "["): return try self.array()
        case UInt8(ascii: "\""): return .string(try self.string())
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try self.number())
        default: throw self.fail("invalid value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONValue.ParseError) {
        let start = self.i
        let n = word.utf8CodeUnitCount
        guard self.i + n <= self.b.count else { throw self.fail("", at: self.b.count) }
        for k in 0..<n where self.b[start + k] != word.utf8Start[k] { throw self.fail("invalid value", at: start) }
        self.i += n
    }

    private mutating func enter() throws(JSONValue.ParseError) {
        self.depth += 1
        if self.depth > Self.maxDepth { throw self.fail("nesting deeper than \(Self.maxDepth)") }
    }

    private mutating func object() throws(JSONValue.ParseError) -> JSONValue {
        try self.enter()
        self.i += 1
        var members: [String: JSONValue] = [:]
        self.skipWhitespace()
        if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "}") {
            self.i += 1
            self.depth -= 1
            return .object(members)
        }
        while true {
            guard self.i < self.b.count else { throw self.fail("") }
            guard self.b[self.i] == UInt8(ascii: "\"") else { throw self.fail("expected a string key") }
            let key = try self.string()
            self.skipWhitespace()
            guard self.i < self.b.count, self.b[self.i] == UInt8(ascii: ":") else { throw self.fail("expected ':'") }
            self.i += 1
            self.skipWhitespace()
            let v = try self.value()
            if members[key] == nil { members[key] = v }  // the first occurrence of a repeated key wins
            self.skipWhitespace()
            guard self.i < self.b.count else { throw self.fail("") }
            switch self.b[self.i] {
            case UInt8(ascii: ","):
                let comma = self.i
                self.i += 1
                self.skipWhitespace()
                if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "}") { throw JSONValue.ParseError(reason: "trailing comma at byte \(comma)", byteOffset: comma) }
            case UInt8(ascii: "}"):
                self.i += 1
                self.depth -= 1
                return .object(members)
            default:
                throw self.fail("expected ',' or '}'")
            }
        }
    }

    private mutating func array() throws(JSONValue.ParseError) -> JSONValue {
        try self.enter()
        self.i += 1
        var elements: [JSONValue] = []
        self.skipWhitespace()
        if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "]") {
            self.i += 1
            self.depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try self.value())
            self.skipWhitespace()
            guard self.i < self.b.count else { throw self.fail("") }
            switch self.b[self.i] {
            case UInt8(ascii: ","):
                let comma = self.i
                self.i += 1
                self.skipWhitespace()
                if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "]") { throw JSONValue.ParseError(reason: "trailing comma at byte \(comma)", byteOffset: comma) }
            case UInt8(ascii: "]"):
                self.i += 1
                self.depth -= 1
                return .array(elements)
            default:
                throw self.fail("expected ',' or ']'")
            }
        }
    }

    private mutating func string() throws(JSONValue.ParseError) -> String {
        self.i += 1  // opening quote
        let start = self.i
        // Fast path: no escapes.
        while self.i < self.b.count {
            let c = self.b[self.i]
            if c == UInt8(ascii: "\"") {
                let s = try self.utf8(start..<self.i)
                self.i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw self.fail(c == 0 ? "unexpected NUL byte" : "control character in a string") }
            self.i += 1
        }
        guard self.i < self.b.count else { throw self.fail("") }
        // Slow path: unescape into a scratch buffer.
        self.scratch.removeAll(keepingCapacity: true)
        self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.b[start..<self.i]))
        while self.i < self.b.count {
            let c = self.b[self.i]
            switch c {
            case UInt8(ascii: "\""):
                let segmentEnd = self.i
                self.i += 1
                return try self.validated(self.scratch, endingAt: segmentEnd)
            case UInt8(ascii: "\\"):
                guard self.i + 1 < self.b.count else { throw self.fail("", at: self.b.count) }
                let e = self.b[self.i + 1]
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): self.scratch.append(e)
                case UInt8(ascii: "b"): self.scratch.append(0x08)
                case UInt8(ascii: "f"): self.scratch.append(0x0C)
                case UInt8(ascii: "n"): self.scratch.append(0x0A)
                case UInt8(ascii: "r"): self.scratch.append(0x0D)
                case UInt8(ascii: "t"): self.scratch.append(0x09)
                case UInt8(ascii: "u"):
                    let at = self.i
                    var scalar = try self.hex4(self.i + 2)
                    self.i += 4
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard self.i + 7 < self.b.count, self.b[self.i + 2] == UInt8(ascii: "\\"), self.b[self.i + 3] == UInt8(ascii: "u") else {
                            throw self.fail("unpaired surrogate in \\u escape", at: at)
                        }
                        let low = try self.hex4(self.i + 4)
                        guard (0xDC00...0xDFFF).contains(low) else { throw self.fail("unpaired surrogate in \\u escape", at: at) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        self.i += 6
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw self.fail("unpaired surrogate in \\u escape", at: at)
                    }
                    self.scratch.append(contentsOf: Array(String(Unicode.Scalar(scalar)!).utf8))
                default:
                    throw self.fail("invalid escape")
                }
                self.i += 2
            default:
                if c < 0x20 { throw self.fail(c == 0 ? "unexpected NUL byte" : "control character in a string") }
                self.scratch.append(c)
                self.i += 1
            }
        }
        throw self.fail("")
    }

    private func hex4(_ at: Int) throws(JSONValue.ParseError) -> UInt32 {
        guard at + 4 <= self.b.count else { throw self.fail("", at: self.b.count) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = self.b[at + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw self.fail("invalid \\u escape", at: at + k)
            }
            v = v << 4 | d
        }
        return v
    }

    private func utf8(_ range: Range<Int>) throws(JSONValue.ParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: self.b[range])
        if let s = String(validating: slice, as: UTF8.self) { return s }
        throw Self.invalidUTF8(slice, base: range.lowerBound)
    }

    private func validated(_ bytes: [UInt8], endingAt end: Int) throws(JSONValue.ParseError) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        // Report the offset in the input: rescan the raw bytes of the string, which hold the same bad byte.
        var start = end
        while start > 0, self.b[start - 1] != UInt8(ascii: "\"") || (start >= 2 && self.b[start - 2] == UInt8(ascii: "\\")) { start -= 1 }
        throw Self.invalidUTF8(UnsafeBufferPointer(rebasing: self.b[start..<end]), base: start)
    }

    private static func invalidUTF8(_ slice: UnsafeBufferPointer<UInt8>, base: Int) -> JSONValue.ParseError {
        var it = slice.makeIterator()
        var decoder = UTF8()
        var offset = 0
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput, .error: break loop
            }
        }
        return JSONValue.ParseError(reason: "the data is not valid UTF-8 (first bad byte at offset \(base + offset))",
                                    byteOffset: base + offset)
    }

    private mutating func number() throws(JSONValue.ParseError) -> Double {
        let start = self.i
        var negative = false
        if self.b[self.i] == UInt8(ascii: "-") { negative = true; self.i += 1 }
        guard self.i < self.b.count else { throw self.fail("") }
        var integer: UInt64 = 0
        var digits = 0
        if self.b[self.i] == UInt8(ascii: "0") {
            self.i += 1
            digits = 1
        } else {
            while self.i < self.b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.b[self.i]) {
                if digits < 18 { integer = integer * 10 + UInt64(self.b[self.i] - UInt8(ascii: "0")) }
                digits += 1
                self.i += 1
            }
        }
        guard digits > 0 else { throw self.fail("invalid number", at: start) }
        var simple = digits < 16
        if self.i < self.b.count, self.b[self.i] == UInt8(ascii: ".") {
            simple = false
            self.i += 1
            let f = self.i
            while self.i < self.b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.b[self.i]) { self.i += 1 }
            guard self.i > f else { throw self.fail("invalid number", at: start) }
        }
        if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "e") || self.b[self.i] == UInt8(ascii: "E") {
            simple = false
            self.i += 1
            if self.i < self.b.count, self.b[self.i] == UInt8(ascii: "+") || self.b[self.i] == UInt8(ascii: "-") { self.i += 1 }
            let e = self.i
            while self.i < self.b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.b[self.i]) { self.i += 1 }
            guard self.i > e else { throw self.fail("invalid number", at: start) }
        }
        if simple { return negative ? -Double(integer) : Double(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.b[start..<self.i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw self.fail("number out of range", at: start) }
        return d
    }
}
