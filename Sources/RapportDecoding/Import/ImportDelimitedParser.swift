import RapportCore
import RapportSupport
/// An incremental RFC 4180 parser over UTF-8 bytes, fed one buffer at a time.
///
/// Delimiter, quote, CR and LF are ASCII and never occur inside a UTF-8 multibyte sequence, so the parser
/// works on bytes and makes a `String` per field. It counts physical lines (CRLF, LF and a lone CR each end
/// one, inside quoted fields too) so that every record knows the line it starts on.
///
/// Lenient where files in the wild are: a quote inside an unquoted field is literal, and text after a
/// closing quote continues the field. An unterminated quoted field at the end of input, and a record larger
/// than the limit, are malformed records; the parser then goes on with the next record.
struct ImportDelimitedParser {
    enum Record {
        case row(fields: [String], lineNumber: Int)
        case malformed(reason: String, fields: [String], lineNumber: Int)
    }

    private enum State {
        case recordStart, fieldStart, unquoted, quoted, quoteInQuoted
    }

    static let quote = UInt8(ascii: "\"")
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    let delimiter: UInt8
    let maximumRowBytes: Int
    private var state = State.recordStart
    private var fields: [String] = []
    private var field: [UInt8] = []
    /// The physical line the next byte is on.
    private(set) var line = 1
    private var recordLine = 1
    /// The last byte outside quotes ended a line with CR; an LF right after it belongs to the same break.
    private var pendingCR = false
    /// The last byte inside a quoted field was a CR.
    private var quotedCR = false
    private var rowBytes = 0
    private var overflowed = false
    private var expectedWidth = 8

    init(delimiter: UInt8, maximumRowBytes: Int) {
        self.delimiter = delimiter
        self.maximumRowBytes = maximumRowBytes
    }

    /// Parses from `buffer[position...]` up to the end of the next record.
    ///
    /// - Returns: The record, with `position` just past its line break; or `nil` with `position` at the end
    ///   of the buffer when the record continues in the next buffer.
    mutating func next(in buffer: UnsafeBufferPointer<UInt8>, position: inout Int) -> Record? {
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
            switch self.state {
            case .recordStart:
                self.recordLine = self.line
                self.rowBytes = 0
                self.overflowed = false
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
                if let record = self.terminate(buffer[scan], index: &index) { return record }

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
                if let record = self.terminate(buffer[scan], index: &index) { return record }

            case .quoted:
                var scan = index
                while scan < end {
                    let byte = buffer[scan]
                    if byte == Self.quote { break }
                    if byte == Self.carriageReturn {
                        self.line += 1
                        self.quotedCR = true
                    } else if byte == Self.lineFeed {
                        if !self.quotedCR { self.line += 1 }
                        self.quotedCR = false
                    } else {
                        self.quotedCR = false
                    }
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
                    if let record = self.terminate(byte, index: &index) { return record }
                } else {
                    self.state = .unquoted
                }
            }
        }
        return nil
    }

    /// Ends the input: returns the last record if the input did not end with a line break.
    mutating func finish() -> Record? {
        self.pendingCR = false
        switch self.state {
        case .recordStart:
            return nil
        case .fieldStart:
            self.finishField()
        case .unquoted, .quoteInQuoted:
            self.finishField()
        case .quoted:
            self.finishField()
            self.state = .recordStart
            let fields = self.fields
            self.fields = []
            return .malformed(
                reason: "unterminated quoted field", fields: fields, lineNumber: self.recordLine)
        }
        self.state = .recordStart
        return self.makeRecord()
    }

    /// Handles the delimiter or line break at `index` after a field.
    private mutating func terminate(_ byte: UInt8, index: inout Int) -> Record? {
        index += 1
        if byte == self.delimiter {
            self.state = .fieldStart
            return nil
        }
        self.line += 1
        self.pendingCR = byte == Self.carriageReturn
        self.state = .recordStart
        return self.makeRecord()
    }

    private mutating func makeRecord() -> Record {
        let fields = self.fields
        self.fields = []
        self.expectedWidth = max(self.expectedWidth, fields.count)
        if self.overflowed {
            return .malformed(
                reason: "row larger than \(self.maximumRowBytes) bytes", fields: fields, lineNumber: self.recordLine)
        }
        return .row(fields: fields, lineNumber: self.recordLine)
    }

    private mutating func countBytes(_ count: Int) -> Bool {
        guard !self.overflowed else { return false }
        self.rowBytes += count
        if self.rowBytes > self.maximumRowBytes {
            self.overflowed = true
            self.field.removeAll()
            return false
        }
        return true
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty, self.countBytes(bytes.count) else { return }
        self.field.append(contentsOf: bytes)
    }

    private mutating func append(byte: UInt8) {
        guard self.countBytes(1) else { return }
        self.field.append(byte)
    }

    private mutating func finishField(direct bytes: UnsafeBufferPointer<UInt8>) {
        guard self.countBytes(bytes.count) else { return }
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
