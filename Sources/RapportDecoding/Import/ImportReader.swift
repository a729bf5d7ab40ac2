import RapportCore
import RapportSupport
/// Streams the rows of an import file: CSV and other delimited text, or an `.xlsx` workbook.
///
/// Opening the reader detects the format, the text encoding and the delimiter, and reads the header row.
/// ``next()`` then returns one data row at a time, with the line where it starts.
///
/// A quoted field may span lines. A row that spans lines but is malformed (a quote never closed, a row
/// larger than ``Configuration/maximumRowBytes``, or a field count other than the header's) is most likely a
/// stray quote: the reader throws a ``ImportError/Code/malformedRow`` for its first line only and reads on
/// from the next line, so one bad quote costs one line, not the rest of the file. Memory stays bounded
/// whatever the file's size: text is read in chunks of ``Configuration/chunkSize`` bytes, a worksheet is
/// inflated and scanned chunk by chunk, and no row may exceed ``Configuration/maximumRowBytes``. The one
/// part held whole is an `.xlsx` file's shared-string table (capped by
/// ``Configuration/maximumSharedStringsBytes``).
///
/// ```swift
/// let reader = try ImportReader(path: "leads.csv")
/// print(reader.header)                       // ["姓名", "电话", "邮箱"]
/// while true {
///     do {
///         guard let row = try reader.next() else { break }
///         publish(row.fields, line: row.lineNumber)
///         progressBar.update(reader.bytesConsumed, of: reader.totalBytes)
///     } catch let error as ImportError where error.isRowError {
///         deadLetter(file: reader.path, line: error.lineNumber, error)   // and go on
///     }
/// }
/// ```
///
/// - Important: The reader does blocking file I/O. Use it from one thread at a time, off the cooperative
///   pool (for example inside `NIOThreadPool.runIfActive`). It is not `Sendable`.
public final class ImportReader {
    /// Settings for reading; every one has a default.
    public struct Configuration: Sendable {
        /// Bytes read from the file per read. Defaults to `65536`. Tests use tiny values to put chunk
        /// boundaries everywhere.
        public var chunkSize: Int = 64 << 10
        /// The container format, or `nil` to detect it from the file's first bytes. Defaults to `nil`.
        public var format: ImportFormat? = nil
        /// The text encoding, or `nil` to detect it. Defaults to `nil`.
        ///
        /// A byte-order mark always wins over this setting.
        public var encoding: ImportTextEncoding? = nil
        /// The field delimiter of delimited text, or `nil` to detect comma, tab or semicolon from the first
        /// line. Defaults to `nil`.
        public var delimiter: Character? = nil
        /// Whether the first row is a header. Defaults to `true`.
        public var hasHeaderRow: Bool = true
        /// Whether rows whose fields are all empty (blank lines, `,,,`) are skipped. Defaults to `true`.
        public var skipsBlankRows: Bool = true
        /// The worksheet to read from an `.xlsx` file, by name; `nil` reads the first visible one.
        /// Defaults to `nil`.
        public var sheetName: String? = nil
        /// The largest row accepted, in UTF-8 bytes as in the file (delimiters and quotes included); a larger
        /// one is a ``ImportError/Code/malformedRow``. This bounds memory when a quote is never closed: the
        /// reader holds at most this plus one chunk of a row. Defaults to `1048576` (1 MiB).
        public var maximumRowBytes: Int = 1 << 20
        /// The largest shared-string table accepted from an `.xlsx` file, in UTF-8 bytes. Defaults to
        /// `268435456` (256 MiB).
        public var maximumSharedStringsBytes: Int = 256 << 20

        /// Creates a configuration with the defaults.
        public init() {}
    }

    private enum Source {
        case text(TextState)
        case sheet(ImportSheetReader)
    }

    private final class TextState {
        let file: ImportFile
        let decoder: ImportTextDecoder
        var parser: ImportDelimitedParser
        var decoded: [UInt8] = []
        var position = 0
        var decodedBase: Int64 = 0
        var fileOffset: Int64
        var atEnd = false
        var finished = false

        init(file: ImportFile, decoder: ImportTextDecoder, parser: ImportDelimitedParser, fileOffset: Int64) {
            self.file = file
            self.decoder = decoder
            self.parser = parser
            self.fileOffset = fileOffset
        }
    }

    /// The path the reader was opened with.
    public let path: String
    /// The settings in use.
    public let configuration: Configuration
    /// The file's format.
    public let format: ImportFormat
    /// The delimiter of delimited text; `nil` for a spreadsheet.
    public let delimiter: Character?
    /// The worksheet being read from an `.xlsx` file; `nil` for delimited text.
    public let sheetName: String?
    /// The header row; empty when ``Configuration/hasHeaderRow`` is `false` or the file is empty.
    public private(set) var header: [String] = []
    /// The size of the file in bytes.
    public let fileSize: Int64

    private let file: ImportFile
    private var source: Source
    private var expectedFieldCount: Int?
    private var rowCount = 0
    private var terminalError: ImportError?

    /// Opens `path`, detects its format, encoding and delimiter, and reads the header row.
    ///
    /// - Parameters:
    ///   - path: The file to read.
    ///   - configuration: Settings for reading. Defaults to detecting everything.
    /// - Throws: ``ImportError`` with ``ImportError/Code/unreadableFile``, ``ImportError/Code/unsupportedFormat``
    ///   or ``ImportError/Code/malformedFile``, or a row error if the header row itself is bad.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        self.path = path
        self.configuration = configuration
        let chunkSize = max(1, configuration.chunkSize)
        let file = try ImportFile(path: path)
        self.file = file
        self.fileSize = file.size

        let head = try file.read(at: 0, exactly: Int(min(file.size, 8)))
        let isZip = head.starts(with: [0x50, 0x4B, 0x03, 0x04])
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            throw ImportError(
                .unsupportedFormat, path: path, reason: "legacy Excel 97-2003 file (.xls): save it as .xlsx or CSV")
        }
        if head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            throw ImportError(.unsupportedFormat, path: path, reason: "empty zip archive")
        }
        let format = configuration.format ?? (isZip ? .xlsx : .delimitedText)
        let lowercasedPath = path.lowercased()
        if format == .delimitedText && !isZip
            && (lowercasedPath.hasSuffix(".xlsx") || lowercasedPath.hasSuffix(".xlsm"))
            && configuration.format == nil
        {
            throw ImportError(
                .unsupportedFormat, path: path, reason: "named like a workbook but not a zip archive")
        }
        self.format = format

        if format == .xlsx {
            guard isZip else {
                throw ImportError(.unsupportedFormat, path: path, reason: "not a zip archive, so not an .xlsx file")
            }
            let archive = try ImportZipArchive(file: file)
            let workbook = try ImportWorkbook(
                archive: archive, sheetName: configuration.sheetName,
                maximumSharedStringsBytes: configuration.maximumSharedStringsBytes,
                chunkSize: max(chunkSize, 16))
            self.sheetName = workbook.sheet.name
            self.delimiter = nil
            self.source = .sheet(
                try ImportSheetReader(
                    workbook: workbook, chunkSize: max(chunkSize, 16), maximumRowBytes: configuration.maximumRowBytes))
        } else {
            let sniffLength = Int(min(file.size, Int64(max(chunkSize, 4096))))
            let sniff = ImportTextDecoder.sniff(try file.read(at: 0, exactly: sniffLength))
            if sniff.isBinary {
                throw ImportError(.unsupportedFormat, path: path, reason: "binary data, not delimited text")
            }
            let decoder = try ImportTextDecoder(path: path, encoding: sniff.encoding ?? configuration.encoding)
            var delimiterByte: UInt8
            if let delimiter = configuration.delimiter {
                guard let ascii = delimiter.asciiValue, ascii != UInt8(ascii: "\""), ascii != 10, ascii != 13 else {
                    throw ImportError(
                        .unsupportedFormat, path: path, reason: "the delimiter must be one ASCII character")
                }
                delimiterByte = ascii
            } else {
                delimiterByte = UInt8(ascii: ",")
            }
            let state = TextState(
                file: file, decoder: decoder,
                parser: ImportDelimitedParser(delimiter: delimiterByte, maximumRowBytes: configuration.maximumRowBytes),
                fileOffset: Int64(sniff.markLength))
            if configuration.delimiter == nil {
                // Read until the first line is complete (or 1 MiB), then count delimiter candidates in it.
                while !state.atEnd && state.decoded.count < 1 << 20
                    && !ImportDelimitedParser.containsLineBreak(state.decoded)
                {
                    try ImportReader.readChunk(into: state, chunkSize: chunkSize)
                }
                delimiterByte = ImportDelimitedParser.detectDelimiter(in: state.decoded)
                state.parser = ImportDelimitedParser(
                    delimiter: delimiterByte, maximumRowBytes: configuration.maximumRowBytes)
            }
            self.delimiter = Character(Unicode.Scalar(delimiterByte))
            self.sheetName = nil
            self.source = .text(state)
        }

        if configuration.hasHeaderRow {
            if let first = try self.nextRecord() {
                var fields = first.fields
                if format == .xlsx {
                    while fields.last?.isEmpty == true { fields.removeLast() }
                }
                self.header = fields
                self.setExpectedFieldCount(fields.count)
            }
        }
    }

    deinit {
        self.file.close()
    }

    /// The text encoding of delimited text; `nil` for a spreadsheet.
    ///
    /// - Note: A file that is all ASCII so far reports ``ImportTextEncoding/utf8``; the first non-ASCII bytes
    ///   decide, so a GB18030 file whose first rows are ASCII changes to ``ImportTextEncoding/gb18030`` there.
    public var encoding: ImportTextEncoding? {
        guard case .text(let state) = self.source else { return nil }
        return state.decoder.encoding
    }

    /// The bytes the row stream reads in all: the file's size for text, the worksheet's compressed size for
    /// a spreadsheet. With ``bytesConsumed``, this drives a progress bar and its ETA.
    public var totalBytes: Int64 {
        switch self.source {
        case .text: self.fileSize
        case .sheet(let sheet): sheet.progress.total
        }
    }

    /// The bytes read so far, out of ``totalBytes`` (advances one chunk at a time).
    public var bytesConsumed: Int64 {
        switch self.source {
        case .text(let state): min(state.fileOffset, self.fileSize)
        case .sheet(let sheet): sheet.progress.consumed
        }
    }

    /// ``bytesConsumed`` as a fraction of ``totalBytes``, from `0` to `1`.
    public var fractionCompleted: Double {
        self.totalBytes > 0 ? min(1, Double(self.bytesConsumed) / Double(self.totalBytes)) : 1
    }

    /// Returns the next data row, or `nil` at the end of the file.
    ///
    /// - Returns: The row, with its fields, the line where it starts and its kind of cells.
    /// - Throws: ``ImportError``. A row error (``ImportError/isRowError``: bad encoding, malformed row)
    ///   concerns that row only; call `next()` again to go on. Any other error ends the stream and is
    ///   thrown again by later calls.
    public func next() throws -> ImportRow? {
        guard let record = try self.nextRecord() else { return nil }
        let expected = self.expectedFieldCount ?? record.fields.count
        if self.expectedFieldCount == nil {
            self.setExpectedFieldCount(expected)
        }
        self.rowCount += 1
        var fields = record.fields
        var kinds = record.kinds
        if self.format == .xlsx {
            // A worksheet leaves out empty cells: pad to the header, and drop empty cells past it.
            while fields.count > expected && fields.last?.isEmpty == true {
                fields.removeLast()
                kinds.removeLast()
            }
            while fields.count < expected {
                fields.append("")
                kinds.append(.empty)
            }
        }
        return ImportRow(
            fields: fields, lineNumber: record.lineNumber, index: self.rowCount, expectedFieldCount: expected,
            cellKinds: kinds)
    }

    private func setExpectedFieldCount(_ count: Int) {
        self.expectedFieldCount = count
        // A record spanning lines with another width is a stray quote's doing: the parser refuses its first line.
        if case .text(let state) = self.source { state.parser.expectedFieldCount = count }
    }

    private struct Record {
        var fields: [String]
        var kinds: [ImportCellKind]
        var lineNumber: Int
    }

    /// The next record that is not skipped as blank, header included.
    private func nextRecord() throws -> Record? {
        if let terminalError = self.terminalError { throw terminalError }
        do {
            while true {
                let record: Record?
                switch self.source {
                case .text(let state):
                    record = try self.nextTextRecord(state)
                case .sheet(let sheet):
                    record = try self.nextSheetRecord(sheet)
                }
                guard let record else { return nil }
                if self.configuration.skipsBlankRows && record.fields.allSatisfy({ $0.isEmpty }) {
                    continue
                }
                return record
            }
        } catch let error as ImportError where !error.isRowError {
            self.terminalError = error
            throw error
        }
    }

    private func nextSheetRecord(_ sheet: ImportSheetReader) throws -> Record? {
        guard let row = try sheet.nextRow() else { return nil }
        if let problem = row.problem {
            throw ImportError(
                .malformedRow, path: self.path, reason: problem, lineNumber: row.rowNumber, fields: row.fields)
        }
        return Record(fields: row.fields, kinds: row.kinds, lineNumber: row.rowNumber)
    }

    // Swift 6.3's optimizer crashes on this loop (CopyPropagation, "Found ownership error"); the work is
    // in the parser and decoder, which are still optimized.
    @_optimize(none)
    private func nextTextRecord(_ state: TextState) throws -> Record? {
        while true {
            if state.finished { return nil }
            var position = state.position
            let base = state.decodedBase
            let parsed = state.decoded.withUnsafeBufferPointer { buffer in
                state.parser.next(in: buffer, base: base, position: &position)
            }
            state.position = position
            if let parsed {
                return try self.complete(parsed, state: state, endOffset: base + Int64(position))
            }
            if state.atEnd {
                // A refused last record moves `position` back, to read on from the line after its first.
                guard let last = state.parser.finish(base: base, position: &position) else {
                    state.finished = true
                    return nil
                }
                state.position = position
                return try self.complete(last, state: state, endOffset: base + Int64(position))
            }
            // Drop what is parsed, but keep what the parser may re-parse (the record in progress from its first
            // line break on).
            let parsedBytes = state.parser.retainedOffset.map { Int($0 - base) } ?? state.decoded.count
            state.decoded.removeFirst(parsedBytes)
            state.decodedBase += Int64(parsedBytes)
            state.position = state.decoded.count
            try ImportReader.readChunk(into: state, chunkSize: max(1, self.configuration.chunkSize))
        }
    }

    /// Turns a parsed record into a row, or into the row error it is. `endOffset` is where the parser stopped:
    /// for a record refused as its first line, the end of that line, so later lines keep their own issues.
    private func complete(_ parsed: ImportDelimitedParser.Record, state: TextState, endOffset: Int64) throws -> Record {
        switch parsed {
        case .row(let fields, let lineNumber):
            let issues = state.decoder.takeIssues(before: endOffset)
            if let first = issues.first {
                throw ImportError(
                    .badEncoding, path: self.path,
                    reason: "bytes that are not valid \(state.decoder.encoding)",
                    lineNumber: lineNumber, byteOffset: first.fileOffset, fields: fields)
            }
            return Record(fields: fields, kinds: [], lineNumber: lineNumber)
        case .malformed(let reason, let fields, let lineNumber):
            let issues = state.decoder.takeIssues(before: endOffset)
            throw ImportError(
                .malformedRow, path: self.path, reason: reason, lineNumber: lineNumber,
                byteOffset: issues.first?.fileOffset, fields: fields)
        }
    }

    /// Reads and decodes the next chunk of the file, appending to `state.decoded`.
    private static func readChunk(into state: TextState, chunkSize: Int) throws {
        var raw: [UInt8] = []
        raw.reserveCapacity(chunkSize)
        let start = state.fileOffset
        let count = try state.file.read(at: start, count: chunkSize, appendingTo: &raw)
        state.fileOffset += Int64(count)
        state.atEnd = count < chunkSize || state.fileOffset >= state.file.size
        try state.decoder.decode(raw, fileOffset: start, isFinal: state.atEnd, into: &state.decoded)
    }
}

@available(*, unavailable)
extension ImportReader: Sendable {}
