import RapportCore
import RapportSupport
/// The container format of an import file.
///
/// ``ImportReader`` detects it from the file's first bytes: the zip signature `PK\x03\x04` means an Office
/// Open XML workbook (`.xlsx`, `.xlsm`); anything else is read as delimited text.
public struct ImportFormat: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case delimitedText, xlsx
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// Delimited text: CSV (RFC 4180), or tab- or semicolon-separated values.
    public static let delimitedText = ImportFormat(.delimitedText)
    /// An Office Open XML spreadsheet (`.xlsx`, `.xlsm`): the first visible worksheet is read.
    public static let xlsx = ImportFormat(.xlsx)

    /// The format's name, such as `xlsx`.
    public var description: String {
        switch self.base {
        case .delimitedText: "delimitedText"
        case .xlsx: "xlsx"
        }
    }
}

/// The character encoding of a delimited text file.
///
/// ``ImportReader`` detects it: a byte-order mark decides when there is one; otherwise the file is UTF-8
/// if its first non-ASCII bytes are valid UTF-8, GB18030 (a superset of GBK and GB2312, which is what
/// Excel writes for "CSV" on a Chinese-language system) if they read as Chinese double-byte text, and
/// Windows-1252 otherwise.
public struct ImportTextEncoding: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case utf8, gb18030, utf16LittleEndian, utf16BigEndian, windows1252
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// UTF-8, with or without a byte-order mark (the mark is stripped).
    public static let utf8 = ImportTextEncoding(.utf8)
    /// GB18030, which includes GBK and GB2312. Decoded with the C library's `iconv`.
    public static let gb18030 = ImportTextEncoding(.gb18030)
    /// UTF-16, little-endian (Excel's "Unicode Text" export).
    public static let utf16LittleEndian = ImportTextEncoding(.utf16LittleEndian)
    /// UTF-16, big-endian.
    public static let utf16BigEndian = ImportTextEncoding(.utf16BigEndian)
    /// Windows-1252 (a superset of ISO 8859-1), what Excel writes for "CSV" on a Western-European system.
    ///
    /// Detected when the non-ASCII bytes are neither UTF-8 nor GB18030 text, so that `Müller` is not read as
    /// Chinese.
    public static let windows1252 = ImportTextEncoding(.windows1252)

    /// The encoding's name as `iconv` knows it.
    var iconvName: String {
        switch self.base {
        case .utf8: "UTF-8"
        case .gb18030: "GB18030"
        case .utf16LittleEndian: "UTF-16LE"
        case .utf16BigEndian: "UTF-16BE"
        case .windows1252: "CP1252"
        }
    }

    /// Bytes to skip after an invalid sequence before trying again.
    var invalidSequenceStep: Int {
        switch self.base {
        case .utf16LittleEndian, .utf16BigEndian: 2
        default: 1
        }
    }

    /// The encoding's usual name, such as `GB18030`.
    public var description: String {
        switch self.base {
        case .utf8: "UTF-8"
        case .gb18030: "GB18030"
        case .utf16LittleEndian: "UTF-16LE"
        case .utf16BigEndian: "UTF-16BE"
        case .windows1252: "Windows-1252"
        }
    }
}
