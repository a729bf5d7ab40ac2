import RapportCore
import RapportSupport
/// A source of bytes pulled on demand.
protocol ImportByteSource: AnyObject {
    /// Appends up to `maximum` bytes to `output`, returning how many; `0` only at the end.
    func read(maximum: Int, appendingTo output: inout [UInt8]) throws -> Int
}

extension ImportZipEntryReader: ImportByteSource {}

/// A small, tolerant, streaming XML tokenizer for the few spreadsheet parts the reader needs.
///
/// It yields start tags, end tags, text and CDATA as ranges into ``buffer`` (valid until the next call to
/// ``next()``), skips comments, processing instructions and doctype declarations, and never expands entities
/// other than the five predefined ones and character references, so hostile input cannot make it grow.
/// Namespace prefixes are ignored: elements and attributes are matched by local name.
final class ImportXMLScanner {
    enum Token {
        /// A start tag: `tag` spans from `<` to `>`; `selfClosing` for `<x/>`.
        case start(name: Range<Int>, tag: Range<Int>, selfClosing: Bool)
        case end(name: Range<Int>)
        /// Character data with entities still encoded.
        case text(Range<Int>)
        /// The content of a CDATA section, taken literally.
        case cdata(Range<Int>)
    }

    private(set) var buffer: [UInt8] = []
    private var position = 0
    private var sourceFinished = false
    private var atStart = true
    private let source: any ImportByteSource
    private let chunkSize: Int
    private let maximumTokenBytes: Int
    private let path: String
    private let partName: String

    init(source: any ImportByteSource, chunkSize: Int, maximumTokenBytes: Int, path: String, partName: String) {
        self.source = source
        self.chunkSize = max(16, chunkSize)
        self.maximumTokenBytes = maximumTokenBytes
        self.path = path
        self.partName = partName
    }

    private func malformed(_ reason: String) -> ImportError {
        ImportError(.malformedFile, path: self.path, reason: "\(self.partName): \(reason)")
    }

    /// Reads more input, dropping what has been consumed. Returns `false` at the end of the source.
    private func refill() throws -> Bool {
        if self.sourceFinished { return false }
        if self.position > 0 {
            self.buffer.removeFirst(self.position)
            self.position = 0
        }
        if self.buffer.count > self.maximumTokenBytes {
            throw self.malformed("XML token larger than \(self.maximumTokenBytes) bytes")
        }
        let count = try self.source.read(maximum: self.chunkSize, appendingTo: &self.buffer)
        if count == 0 {
            self.sourceFinished = true
            return false
        }
        if self.atStart {
            self.atStart = false
            if self.buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
                self.buffer.removeFirst(3)
            }
        }
        return true
    }

    /// The next token, or `nil` at the end of the part.
    func next() throws -> Token? {
        while true {
            if self.position >= self.buffer.count {
                guard try self.refill() else { return nil }
                continue
            }
            let start = self.position
            if self.buffer[start] != UInt8(ascii: "<") {
                if let end = self.find(UInt8(ascii: "<"), from: start) {
                    self.position = end
                    return .text(start..<end)
                }
                if try self.refill() { continue }
                let textStart = self.position
                self.position = self.buffer.count
                return .text(textStart..<self.buffer.count)
            }
            if let token = try self.scanMarkup() {
                return token
            }
        }
    }

    /// Scans the markup at `position`; `nil` means it was skipped or more input was read, so try again.
    private func scanMarkup() throws -> Token? {
        let start = self.position
        let count = self.buffer.count
        guard start + 1 < count else {
            if try self.refill() { return nil }
            throw self.malformed("unterminated tag")
        }
        let second = self.buffer[start + 1]
        if second == UInt8(ascii: "!") {
            if self.hasPrefix("<!--", at: start) {
                _ = try self.skip(until: Array("-->".utf8), from: start + 4)
                return nil
            }
            if self.hasPrefix("<![CDATA[", at: start) {
                guard let end = self.find(sequence: Array("]]>".utf8), from: start + 9) else {
                    if try self.refill() { return nil }
                    throw self.malformed("unterminated CDATA section")
                }
                self.position = end + 3
                return .cdata((start + 9)..<end)
            }
            if count - start < 9 {
                if try self.refill() { return nil }
                throw self.malformed("unterminated markup")
            }
            // A doctype or other declaration: skip it, internal subset included.
            var depth = 0
            var index = start + 2
            while index < count {
                let byte = self.buffer[index]
                if byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "]") {
                    depth -= 1
                } else if byte == UInt8(ascii: ">") && depth <= 0 {
                    self.position = index + 1
                    return nil
                }
                index += 1
            }
            if try self.refill() { return nil }
            throw self.malformed("unterminated declaration")
        }
        if second == UInt8(ascii: "?") {
            _ = try self.skip(until: Array("?>".utf8), from: start + 2)
            return nil
        }
        // A start or end tag: find the closing `>` outside attribute quotes.
        var quote: UInt8 = 0
        var index = start + 1
        var end = -1
        self.buffer.withUnsafeBufferPointer { bytes in
            while index < count {
                let byte = bytes[index]
                if quote != 0 {
                    if byte == quote { quote = 0 }
                } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                    quote = byte
                } else if byte == UInt8(ascii: ">") {
                    end = index
                    break
                }
                index += 1
            }
        }
        guard end >= 0 else {
            if try self.refill() { return nil }
            throw self.malformed("unterminated tag")
        }
        self.position = end + 1
        if second == UInt8(ascii: "/") {
            return .end(name: self.nameRange(from: start + 2, to: end))
        }
        let selfClosing = self.buffer[end - 1] == UInt8(ascii: "/")
        return .start(name: self.nameRange(from: start + 1, to: end), tag: start..<(end + 1), selfClosing: selfClosing)
    }

    /// Skips to just past `terminator`. Returns `false` after reading more input (call again).
    private func skip(until terminator: [UInt8], from index: Int) throws -> Bool {
        if let end = self.find(sequence: terminator, from: index) {
            self.position = end + terminator.count
            return true
        }
        if try self.refill() { return false }
        throw self.malformed("unterminated comment or processing instruction")
    }

    private func nameRange(from start: Int, to limit: Int) -> Range<Int> {
        self.buffer.withUnsafeBufferPointer { bytes in
            var end = start
            while end < limit {
                let byte = bytes[end]
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                    || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
                {
                    break
                }
                end += 1
            }
            return start..<end
        }
    }

    private func hasPrefix(_ text: String, at index: Int) -> Bool {
        var index = index
        for byte in text.utf8 {
            guard index < self.buffer.count, self.buffer[index] == byte else { return false }
            index += 1
        }
        return true
    }

    private func find(_ byte: UInt8, from start: Int) -> Int? {
        self.buffer.withUnsafeBufferPointer { bytes in
            var index = start
            while index < bytes.count {
                if bytes[index] == byte { return index }
                index += 1
            }
            return nil
        }
    }

    private func find(sequence: [UInt8], from start: Int) -> Int? {
        guard let first = sequence.first else { return start }
        var index = start
        while let candidate = self.find(first, from: index) {
            if candidate + sequence.count > self.buffer.count { return nil }
            if self.buffer[candidate..<(candidate + sequence.count)].elementsEqual(sequence) { return candidate }
            index = candidate + 1
        }
        return nil
    }

    // MARK: Reading tokens

    /// The elements the reader looks for, by local name.
    enum Element {
        case row, cell, value, inlineString, text, phonetic, sheetData, stringItem, sheet, relationship, other
    }

    /// The element a tag's name range names, ignoring any namespace prefix.
    func element(_ range: Range<Int>) -> Element {
        self.buffer.withUnsafeBufferPointer { bytes in
            var start = range.lowerBound
            var index = range.lowerBound
            while index < range.upperBound {
                if bytes[index] == UInt8(ascii: ":") { start = index + 1 }
                index += 1
            }
            func matches(_ literal: StaticString) -> Bool {
                literal.withUTF8Buffer { text in
                    guard text.count == range.upperBound - start else { return false }
                    for offset in 0..<text.count where bytes[start + offset] != text[offset] {
                        return false
                    }
                    return true
                }
            }
            switch range.upperBound - start {
            case 1:
                switch bytes[start] {
                case UInt8(ascii: "c"): return .cell
                case UInt8(ascii: "v"): return .value
                case UInt8(ascii: "t"): return .text
                default: return .other
                }
            case 2:
                if matches("is") { return .inlineString }
                if matches("si") { return .stringItem }
            case 3:
                if matches("row") { return .row }
                if matches("rPh") { return .phonetic }
            case 5:
                if matches("sheet") { return .sheet }
            case 9:
                if matches("sheetData") { return .sheetData }
            case 12:
                if matches("Relationship") { return .relationship }
            default:
                break
            }
            return .other
        }
    }

    /// Whether the local name (after any `prefix:`) in `range` is `name`.
    func localName(_ range: Range<Int>, is name: StaticString) -> Bool {
        self.buffer.withUnsafeBufferPointer { bytes in
            ImportXMLScanner.localName(bytes, range, is: name)
        }
    }

    private static func localName(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, is name: StaticString
    ) -> Bool {
        var start = range.lowerBound
        var index = range.lowerBound
        while index < range.upperBound {
            if bytes[index] == UInt8(ascii: ":") { start = index + 1 }
            index += 1
        }
        return name.withUTF8Buffer { literal in
            guard range.upperBound - start == literal.count else { return false }
            for offset in 0..<literal.count where bytes[start + offset] != literal[offset] {
                return false
            }
            return true
        }
    }

    /// The raw value (entities still encoded) of the attribute whose local name is `name` in a start tag.
    func attribute(_ name: StaticString, in tag: Range<Int>) -> Range<Int>? {
        self.buffer.withUnsafeBufferPointer { bytes in
            var index = tag.lowerBound + 1
            let end = tag.upperBound - 1
            // Skip the element name.
            while index < end && !Self.isSpace(bytes[index]) { index += 1 }
            while index < end {
                while index < end && Self.isSpace(bytes[index]) { index += 1 }
                let nameStart = index
                while index < end && bytes[index] != UInt8(ascii: "=") && !Self.isSpace(bytes[index])
                    && bytes[index] != UInt8(ascii: "/")
                {
                    index += 1
                }
                let nameRange = nameStart..<index
                while index < end && Self.isSpace(bytes[index]) { index += 1 }
                guard index < end, bytes[index] == UInt8(ascii: "=") else {
                    index += 1
                    continue
                }
                index += 1
                while index < end && Self.isSpace(bytes[index]) { index += 1 }
                guard index < end else { return nil }
                let quote = bytes[index]
                guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
                let valueStart = index + 1
                index = valueStart
                while index < end && bytes[index] != quote { index += 1 }
                let valueRange = valueStart..<index
                index += 1
                if !nameRange.isEmpty && Self.localName(bytes, nameRange, is: name) {
                    return valueRange
                }
            }
            return nil
        }
    }

    /// The attribute's value with entities decoded.
    func attributeString(_ name: StaticString, in tag: Range<Int>) -> String? {
        guard let range = self.attribute(name, in: tag) else { return nil }
        var bytes: [UInt8] = []
        self.appendDecoded(range, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }

    /// Appends the text in `range`, decoding `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#…;` references;
    /// anything else after `&` is kept as it is.
    func appendDecoded(_ range: Range<Int>, to output: inout [UInt8]) {
        let ampersand = self.buffer.withUnsafeBufferPointer { bytes in
            var index = range.lowerBound
            while index < range.upperBound && bytes[index] != UInt8(ascii: "&") { index += 1 }
            if index == range.upperBound {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
            }
            return index
        }
        guard ampersand < range.upperBound else { return }
        var runStart = range.lowerBound
        var index = ampersand
        while index < range.upperBound {
            guard self.buffer[index] == UInt8(ascii: "&") else {
                index += 1
                continue
            }
            var semicolon = index + 1
            while semicolon < range.upperBound && semicolon - index <= 12
                && self.buffer[semicolon] != UInt8(ascii: ";")
            {
                semicolon += 1
            }
            guard semicolon < range.upperBound, self.buffer[semicolon] == UInt8(ascii: ";"),
                let scalar = self.entity(from: index + 1, to: semicolon)
            else {
                index += 1
                continue
            }
            output.append(contentsOf: self.buffer[runStart..<index])
            output.append(contentsOf: String(Character(scalar)).utf8)
            index = semicolon + 1
            runStart = index
        }
        output.append(contentsOf: self.buffer[runStart..<range.upperBound])
    }

    private func entity(from start: Int, to end: Int) -> Unicode.Scalar? {
        let name = self.buffer[start..<end]
        switch String(decoding: name, as: UTF8.self) {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        guard name.first == UInt8(ascii: "#") else { return nil }
        var digits = String(decoding: name.dropFirst(), as: UTF8.self)
        var radix = 10
        if digits.hasPrefix("x") || digits.hasPrefix("X") {
            digits.removeFirst()
            radix = 16
        }
        guard let value = UInt32(digits, radix: radix) else { return nil }
        return Unicode.Scalar(value)
    }
}

extension ImportXMLScanner {
    /// Decodes Office Open XML's `_xHHHH_` escapes (ST_Xstring), used for control characters such as
    /// `_x000D_`; `_x005F_` escapes a literal underscore.
    static func unescapeOOXML(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "_")), text.contains("_x") else { return text }
        var scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "_" && index + 6 < scalars.count && scalars[index + 1] == "x"
                && scalars[index + 6] == "_"
            {
                let hex = String(String.UnicodeScalarView(scalars[(index + 2)..<(index + 6)]))
                if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                    output.append(scalar)
                    index += 7
                    continue
                }
            }
            output.append(scalars[index])
            index += 1
        }
        scalars.removeAll()
        return String(output)
    }
}
