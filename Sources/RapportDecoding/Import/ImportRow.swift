import RapportCore
import RapportSupport
/// One data row of an import file.
public struct ImportRow: Hashable, Sendable {
    /// The row's cells as text, in column order.
    ///
    /// Spreadsheet rows are padded with empty strings to the header's width (a worksheet leaves out empty
    /// cells), so there ``isRagged`` means extra non-empty cells to the right of the header.
    public var fields: [String]
    /// 1-based line where the row starts, for messages that name file and line.
    ///
    /// In a text file this is the physical line (a quoted field with line breaks makes a row span several
    /// lines; the number is that of its first). In a spreadsheet it is the worksheet row number, as Excel shows it.
    public var lineNumber: Int
    /// 1-based position of the row among the data rows: the header and skipped blank rows are not counted.
    public var index: Int
    /// The number of fields a row should have: the header's width, or the first row's without a header.
    public var expectedFieldCount: Int
    /// The kind of each cell in a spreadsheet, parallel to ``fields``; empty for delimited text, whose cells
    /// are all text.
    public var cellKinds: [ImportCellKind]

    /// Creates a row.
    ///
    /// - Parameters:
    ///   - fields: The cells as text.
    ///   - lineNumber: 1-based line (or worksheet row) where the row starts.
    ///   - index: 1-based position among the data rows.
    ///   - expectedFieldCount: The header's width.
    ///   - cellKinds: The kind of each cell, or empty when all are text.
    public init(
        fields: [String], lineNumber: Int, index: Int, expectedFieldCount: Int,
        cellKinds: [ImportCellKind] = []
    ) {
        self.fields = fields
        self.lineNumber = lineNumber
        self.index = index
        self.expectedFieldCount = expectedFieldCount
        self.cellKinds = cellKinds
    }

    /// Whether the row has a different number of fields than the header.
    public var isRagged: Bool {
        self.fields.count != self.expectedFieldCount
    }

    /// The field in `column` (0-based), or `nil` past the end of a short row.
    public subscript(column: Int) -> String? {
        column >= 0 && column < self.fields.count ? self.fields[column] : nil
    }

    /// The kind of the cell in `column` (0-based).
    ///
    /// For delimited text this is ``ImportCellKind/text``, or ``ImportCellKind/empty`` for an empty field;
    /// past the end of the row it is ``ImportCellKind/empty``.
    public func kind(at column: Int) -> ImportCellKind {
        if column >= 0 && column < self.cellKinds.count {
            return self.cellKinds[column]
        }
        if self.cellKinds.isEmpty && column >= 0 && column < self.fields.count {
            return self.fields[column].isEmpty ? .empty : .text
        }
        return .empty
    }

    /// Whether the cell in `column` (0-based) held a number in the spreadsheet.
    ///
    /// Excel stores dates and times as numbers (days since 1899-12-30, the fraction being the time of day);
    /// the field keeps the number's text, for the mapping step to convert.
    public func isNumeric(at column: Int) -> Bool {
        self.kind(at: column) == .number
    }
}

/// What a spreadsheet cell held. ``ImportRow/fields`` always has its text.
public struct ImportCellKind: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable {
        case empty, text, number, boolean, error, date
    }

    private let base: Base

    private init(_ base: Base) {
        self.base = base
    }

    /// No value; the field is the empty string.
    public static let empty = ImportCellKind(.empty)
    /// Text: a shared string, an inline string, or the text result of a formula.
    public static let text = ImportCellKind(.text)
    /// A number, as written in the file (`45292`, `0.5`, `1.2E-3`). Dates and times are numbers too.
    public static let number = ImportCellKind(.number)
    /// A boolean; the field is `TRUE` or `FALSE`.
    public static let boolean = ImportCellKind(.boolean)
    /// An error value such as `#N/A` or `#DIV/0!`; the field is the error's text.
    public static let error = ImportCellKind(.error)
    /// An ISO 8601 date stored as such (cell type `d`, which Excel itself rarely writes).
    public static let date = ImportCellKind(.date)

    /// The kind's name, such as `number`.
    public var description: String {
        switch self.base {
        case .empty: "empty"
        case .text: "text"
        case .number: "number"
        case .boolean: "boolean"
        case .error: "error"
        case .date: "date"
        }
    }
}
