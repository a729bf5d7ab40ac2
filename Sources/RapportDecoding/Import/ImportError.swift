import RapportCore
import RapportSupport
/// An error reading an import file.
///
/// Errors come in two kinds:
/// - **Row errors** (``Code/badEncoding`` and ``Code/malformedRow``) concern one row. They carry the
///   ``lineNumber`` where the row starts, and the ``ImportReader`` stays usable: the next call to
///   ``ImportReader/next()`` continues with the following row. Send the row to the dead letters and go on.
/// - **File errors** (every other code) end the stream: later calls to ``ImportReader/next()`` throw
///   the same error again.
///
/// ``description`` names the code, the input line and the byte offset, but no cell content; the decoded
/// fields of a bad row are in ``fields`` and in `String(reflecting:)`.
public struct ImportError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong. New codes may be added in later versions, so match on the ones you handle.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unreadableFile, unsupportedFormat, badEncoding, malformedRow, malformedFile
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The file could not be opened, is not a regular file, or a read failed.
        public static let unreadableFile = Code(.unreadableFile)
        /// The file is in a format the reader does not support (legacy `.xls`, an encrypted or non-spreadsheet
        /// zip, binary data, or a text encoding whose converter is missing).
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// A row contains bytes that are not valid in the file's text encoding. ``ImportError/byteOffset``
        /// gives the position of the first bad byte in the file. A row error.
        public static let badEncoding = Code(.badEncoding)
        /// A row could not be parsed: an unterminated quoted field, a row larger than
        /// ``ImportReader/Configuration/maximumRowBytes``, or a quoted field spanning lines that leaves the row
        /// with another number of fields than the header. When the row spans lines, the error is for its first
        /// line only and reading goes on with the next line. A row error.
        public static let malformedRow = Code(.malformedRow)
        /// The container is damaged: a truncated or corrupt zip, a checksum mismatch, broken spreadsheet XML
        /// or a missing workbook part.
        public static let malformedFile = Code(.malformedFile)

        /// The code's name, such as `malformedRow`.
        public var description: String {
            switch self.base {
            case .unreadableFile: "unreadableFile"
            case .unsupportedFormat: "unsupportedFormat"
            case .badEncoding: "badEncoding"
            case .malformedRow: "malformedRow"
            case .malformedFile: "malformedFile"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// Path of the import file, as given to ``ImportReader/init(path:configuration:)``.
    public var path: String
    /// 1-based line where the affected row starts (the physical line in a text file, the worksheet row
    /// number in a spreadsheet), when the error concerns a row.
    public var lineNumber: Int?
    /// Offset in the file of the first bad byte, for ``Code/badEncoding`` in text files.
    public var byteOffset: Int64?
    /// A short explanation, without file content.
    public var reason: String
    /// The row's fields as far as they could be decoded (invalid bytes become U+FFFD), for row errors.
    ///
    /// - Note: This is file content; it is not part of ``description``.
    public var fields: [String]?
    /// Source file of the code that threw, for diagnostics (not the import file; see ``path``).
    public var file: String
    /// Source line of the code that threw, for diagnostics (not the import line; see ``lineNumber``).
    public var line: Int

    /// Creates an import error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - path: Path of the import file.
    ///   - reason: A short explanation without file content.
    ///   - lineNumber: 1-based line where the affected row starts, for row errors.
    ///   - byteOffset: Offset of the first bad byte in the file, for encoding errors.
    ///   - fields: The decoded fields of the affected row, for row errors.
    ///   - file: The throwing source file. Defaults to the caller's.
    ///   - line: The throwing source line. Defaults to the caller's.
    public init(
        _ code: Code,
        path: String,
        reason: String,
        lineNumber: Int? = nil,
        byteOffset: Int64? = nil,
        fields: [String]? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.path = path
        self.reason = reason
        self.lineNumber = lineNumber
        self.byteOffset = byteOffset
        self.fields = fields
        self.file = file
        self.line = line
    }

    /// Whether the error concerns one row only, so that reading can go on with the next row.
    public var isRowError: Bool {
        self.code == .badEncoding || self.code == .malformedRow
    }

    /// The code, input line and byte offset, without file content: safe to log.
    public var description: String {
        var text = "ImportError(\(self.code)"
        if let lineNumber = self.lineNumber {
            text += ", line \(lineNumber)"
        }
        if let byteOffset = self.byteOffset {
            text += ", byte \(byteOffset)"
        }
        return text + ")"
    }

    /// Everything known, including the path, the reason, the row's fields and where the error was thrown.
    public var debugDescription: String {
        var text = "ImportError(code: \(self.code), path: \(self.path), reason: \(self.reason)"
        if let lineNumber = self.lineNumber {
            text += ", lineNumber: \(lineNumber)"
        }
        if let byteOffset = self.byteOffset {
            text += ", byteOffset: \(byteOffset)"
        }
        if let fields = self.fields {
            text += ", fields: \(fields)"
        }
        return text + ", thrown at: \(self.file):\(self.line))"
    }
}
