import RapportCore
import RapportSupport
/// An incremental RFC 4180 parser over UTF-8 bytes, fed one buffer at a time.
///
/// Delimiter, quote, CR and LF are ASCII and never occur inside a UTF-8 multibyte sequence, so the parser
/// works on bytes and makes a `String` per field. It counts physical lines (CRLF, LF and a lone CR each end
/// one, inside quoted fields too) so that every record knows the line it starts on.
///
/// Lenient where files in the wild are: a quote inside an unquoted field is literal, and text after a
/// closing quote continues the field.
///
/// A quoted field may span lines (Excel writes multi-line cells). But one stray quote would otherwise
/// swallow every line after it into one field, so a record that spans lines and turns out malformed (its
/// quote is never closed, it grows past `maximumRowBytes`, or it ends with a field count other than
/// ``expectedFieldCount``) is refused as its first physical line only, and parsing resumes on the next line.
/// For that the caller keeps the bytes from ``retainedOffset`` on, and `next` may move `position` back.
/// A record on one line that is too large is refused whole; one with the wrong field count is a row (the
/// caller sees it as ragged).
struct ImportDelimitedParser {
    enum Record {
        case row(fields: [String], lineNumber: Int)
        case malformed(reason: String, fields: [String], lineNumber: Int)
    }

    private enum State {
        case recordStart, fieldStart, unquoted, quoted, quoteInQuoted
    }

    /// Where the record in progress crossed its first line break (inside a quoted field).
    private struct FirstBreak {
        /// Offset just past the break byte, where parsing resumes if the record is refused.
        var offset: Int64
        /// The break byte was a CR, so an LF right at `offset` belongs to it.
        var afterCR: Bool
        /// The fields of the record's first line, for the refusal.
        var fields: [String]
    }

    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    let delimiter: UInt8
    let maximumRowBytes: Int
    /// The number of fields a record must have when it spans lines (the header's width); `nil` skips the check.
    var expectedFieldCount: Int?
    private var state = State.recordStart
    private var fields: [String] = []
    private var field: [UInt8] = []
    /// The physical line the next byte is on.
    private(set) var line = 1
    private var recordLine = 1
    /// Offset of the record in progress, counted over all buffers.
    private var recordOffset: Int64 = 0
    private var firstBreak: FirstBreak?
    /// The last byte outside quotes ended a line with CR; an LF right after it belongs to the same break.
    private var pendingCR = false
    /// The last byte inside a quoted field was a CR.
    private var quotedCR = false
    private var overflowed = false
    private var expectedWidth = 8

    init(delimiter: UInt8, maximumRowBytes: Int) {
        self.delimiter = delimiter
        self.maximumRowBytes = maximumRowBytes
    }

    /// The offset of the first byte the caller must still hold for a possible re-parse, or `nil` when bytes
    /// before the current position may all be dropped.
    var retainedOffset: Int64? {
        self.firstBreak?.offset
    }

    /// Parses from `buffer[position...]` up to the end of the next record.
    ///
    /// - Parameters:
    ///   - base: The offset of `buffer[0]` in the whole input. The buffer must start at or before
    ///     ``retainedOffset``.
    /// - Returns: The record, with `position` just past its line break (or, for a record refused as its first
    ///   line, just past that line); or `nil` with `position` at the end of the buffer when the record
    ///   continues in the next buffer.
    mutating func next(in buffer: UnsafeBufferPointer<UInt8>, base: Int64, position: inout Int) -> Record? {
        let end = buffer.count
        let delimiter = self.delimiter
        var index = position
        defer { position = index }
        while index < end {
            if self.pendingCR {
                self.pendingCR = false
                if buffer[index] == Self.lineFeed {
                    index += 1
                    continue
                }
            }
            if self.state != .recordStart && !self.overflowed
                && base + Int64(index) - self.recordOffset > Int64(self.maximumRowBytes)
            {
                // Checked between scans, so a record holds at most one buffer more than the limit.
                self.overflow()
                if self.firstBreak != nil {
                    return self.refuseFirstLine(reason: self.tooLarge, base: base, index: &index)
                }
            }
            switch self.state {
            case .recordStart:
                self.recordLine = self.line
                self.recordOffset = base + Int64(index)
                self.overflowed = false
                self.firstBreak = nil
                self.fields = []
                self.fields.reserveCapacity(self.expectedWidth)
                self.state = .fieldStart

            case .fieldStart:
                if buffer[index] == Self.quote {
                    self.state = .quoted
                    self.quotedCR = false
                    index += 1
                    continue
                }
                var scan = index
                while scan < end {
                    let byte = buffer[scan]
                    if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
                    scan += 1
                }
                if scan == end {
                    self.append(UnsafeBufferPointer(rebasing: buffer[index..<scan]))
                    self.state = .unquoted
                    index = scan
                    continue
                }
                self.finishField(direct: UnsafeBufferPointer(rebasing: buffer[index..<scan]))
                index = scan
                if let record = self.terminate(buffer[scan], base: base, index: &index) { return record }

            case .unquoted:
                var scan = index
                while scan < end {
                    let byte = buffer[scan]
                    if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
                    scan += 1
                }
                self.append(UnsafeBufferPointer(rebasing: buffer[index..<scan]))
                index = scan
                if scan == end { continue }
                self.finishField()
                if let record = self.terminate(buffer[scan], base: base, index: &index) { return record }

            case .quoted:
                var scan = index
                while scan < end {
                    let byte = buffer[scan]
                    if byte == Self.quote { break }
                    if byte == Self.carriageReturn || (byte == Self.lineFeed && !self.quotedCR) {
                        self.line += 1
                        if self.firstBreak == nil {
                            let head = self.field + UnsafeBufferPointer(rebasing: buffer[index..<scan])
                            self.firstBreak = FirstBreak(
                                offset: base + Int64(scan) + 1, afterCR: byte == Self.carriageReturn,
                                fields: self.fields + [String(decoding: head, as: UTF8.self)])
                            if self.overflowed {
                                // Too large already on its first line: no need to read further.
                                return self.refuseFirstLine(reason: self.tooLarge, base: base, index: &index)
                            }
                        }
                    }
                    self.quotedCR = byte == Self.carriageReturn
                    scan += 1
                }
                self.append(UnsafeBufferPointer(rebasing: buffer[index..<scan]))
                index = scan
                if scan == end { continue }
                self.quotedCR = false
                self.state = .quoteInQuoted
                index += 1

            case .quoteInQuoted:
                let byte = buffer[index]
                if byte == Self.quote {
                    self.append(byte: Self.quote)
                    self.state = .quoted
                    index += 1
                } else if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn {
                    self.finishField()
                    if let record = self.terminate(byte, base: base, index: &index) { return record }
                } else {
                    self.state = .unquoted
                }
            }
        }
        return nil
    }

    /// Ends the input: returns the last record if the input did not end with a line break.
    ///
    /// - Parameters:
    ///   - base: The offset of the buffer last given to ``next(in:base:position:)``, all of it parsed.
    ///   - position: Its end. Moved back when the last record is refused as its first line: the caller then
    ///     goes on with ``next(in:base:position:)`` from there, and calls `finish` again.
    mutating func finish(base: Int64, position: inout Int) -> Record? {
        self.pendingCR = false
        let endOffset = base + Int64(position)
        switch self.state {
        case .recordStart:
            return nil
        case .fieldStart, .unquoted, .quoteInQuoted:
            self.finishField()
        case .quoted:
            if self.firstBreak != nil {
                return self.refuseFirstLine(reason: "quoted field never closed", base: base, index: &position)
            }
            self.finishField()
            self.state = .recordStart
            let fields = self.fields
            self.fields = []
            return .malformed(reason: "quoted field never closed", fields: fields, lineNumber: self.recordLine)
        }
        return self.endRecord(endOffset: endOffset, base: base, index: &position)
    }

    /// Handles the delimiter or line break at `index` after a field.
    private mutating func terminate(_ byte: UInt8, base: Int64, index: inout Int) -> Record? {
        if byte == self.delimiter {
            index += 1
            self.state = .fieldStart
            return nil
        }
        let endOffset = base + Int64(index)
        index += 1
        self.line += 1
        self.pendingCR = byte == Self.carriageReturn
        return self.endRecord(endOffset: endOffset, base: base, index: &index)
    }

    /// Completes the record whose content ends at `endOffset` (its line break excluded).
    private mutating func endRecord(endOffset: Int64, base: Int64, index: inout Int) -> Record {
        if endOffset - self.recordOffset > Int64(self.maximumRowBytes) {
            self.overflow()
        }
        if self.firstBreak != nil {
            if self.overflowed {
                return self.refuseFirstLine(reason: self.tooLarge, base: base, index: &index)
            }
            if let expected = self.expectedFieldCount, self.fields.count != expected {
                return self.refuseFirstLine(
                    reason: "quoted field spans lines and leaves the row with \(self.fields.count) fields, not \(expected)",
                    base: base, index: &index)
            }
        }
        self.state = .recordStart
        self.firstBreak = nil
        let fields = self.fields
        self.fields = []
        self.expectedWidth = max(self.expectedWidth, fields.count)
        if self.overflowed {
            return .malformed(reason: self.tooLarge, fields: fields, lineNumber: self.recordLine)
        }
        return .row(fields: fields, lineNumber: self.recordLine)
    }

    /// Refuses the record in progress as its first physical line and moves `index` back to the line after it.
    private mutating func refuseFirstLine(reason: String, base: Int64, index: inout Int) -> Record {
        let first = self.firstBreak!
        let record = Record.malformed(reason: reason, fields: first.fields, lineNumber: self.recordLine)
        index = Int(first.offset - base)
        self.line = self.recordLine + 1
        self.pendingCR = first.afterCR
        self.state = .recordStart
        self.firstBreak = nil
        self.fields = []
        self.field.removeAll(keepingCapacity: true)
        return record
    }

    private var tooLarge: String {
        "row larger than \(self.maximumRowBytes) bytes"
    }

    private mutating func overflow() {
        self.overflowed = true
        self.field.removeAll()
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty, !self.overflowed else { return }
        self.field.append(contentsOf: bytes)
    }

    private mutating func append(byte: UInt8) {
        guard !self.overflowed else { return }
        self.field.append(byte)
    }

    private mutating func finishField(direct bytes: UnsafeBufferPointer<UInt8>) {
        guard !self.overflowed else { return }
        self.fields.append(String(decoding: bytes, as: UTF8.self))
    }

    private mutating func finishField() {
        guard !self.overflowed else { return }
        self.fields.append(String(decoding: self.field, as: UTF8.self))
        self.field.removeAll(keepingCapacity: true)
    }

    /// Guesses the delimiter from the first line of `bytes`: the most frequent of comma, tab and semicolon
    /// outside quotes, comma on a tie or when there is none.
    static func detectDelimiter(in bytes: [UInt8]) -> UInt8 {
        var commas = 0
        var tabs = 0
        var semicolons = 0
        var inQuotes = false
        for byte in bytes {
            if byte == Self.quote {
                inQuotes.toggle()
            } else if !inQuotes {
                switch byte {
                case UInt8(ascii: ","): commas += 1
                case UInt8(ascii: "\t"): tabs += 1
                case UInt8(ascii: ";"): semicolons += 1
                case Self.lineFeed, Self.carriageReturn:
                    return Self.pick(commas: commas, tabs: tabs, semicolons: semicolons)
                default: break
                }
            }
        }
        return Self.pick(commas: commas, tabs: tabs, semicolons: semicolons)
    }

    /// Whether `bytes` holds a line break outside quotes (the first line is complete).
    static func containsLineBreak(_ bytes: [UInt8]) -> Bool {
        var inQuotes = false
        for byte in bytes {
            if byte == Self.quote {
                inQuotes.toggle()
            } else if !inQuotes && (byte == Self.lineFeed || byte == Self.carriageReturn) {
                return true
            }
        }
        return false
    }

    private static func pick(commas: Int, tabs: Int, semicolons: Int) -> UInt8 {
        if tabs > commas && tabs >= semicolons { return UInt8(ascii: "\t") }
        if semicolons > commas && semicolons > tabs { return UInt8(ascii: ";") }
        return UInt8(ascii: ",")
    }
}
