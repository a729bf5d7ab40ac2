import RapportCore
import RapportSupport
/// The parts of an `.xlsx` workbook needed to read one worksheet: which sheet, and its shared strings.
///
/// Follows the package relationships (`_rels/.rels` → workbook → `xl/_rels/workbook.xml.rels`) and falls
/// back to the conventional part names when a writer left them out.
final class ImportWorkbook {
    struct Sheet {
        var name: String
        var partName: String
        var isHidden: Bool
    }

    let archive: ImportZipArchive
    let sheet: Sheet
    let sharedStrings: ImportSharedStrings
    /// Cell style indexes (`s="…"`) whose number format is a date or time: their numbers are serial dates.
    let dateStyles: Set<Int>
    /// The workbook counts days from 1904-01-01 (old Mac Excel) instead of 1900.
    let date1904: Bool
    private let path: String

    /// Largest XML part other than the worksheet and shared strings that is read (workbook, relationships).
    static let maximumSmallPartBytes = 16 << 20

    init(archive: ImportZipArchive, sheetName: String?, maximumSharedStringsBytes: Int, chunkSize: Int) throws {
        self.archive = archive
        self.path = archive.file.path

        var workbookPart = "xl/workbook.xml"
        if archive.entry(named: "_rels/.rels") != nil {
            let relationships = try ImportWorkbook.relationships(
                in: archive, partName: "_rels/.rels", sourcePart: "", chunkSize: chunkSize)
            if let office = relationships.first(where: { $0.type.hasSuffix("/officeDocument") }) {
                workbookPart = office.target
            }
        }
        guard archive.entry(named: workbookPart) != nil else {
            throw ImportError(
                .unsupportedFormat, path: archive.file.path,
                reason: "zip archive without a spreadsheet workbook (not an .xlsx file)")
        }

        // The sheets, in tab order.
        var declared: [(name: String, relationship: String, hidden: Bool)] = []
        var date1904 = false
        try ImportWorkbook.scan(archive: archive, partName: workbookPart, chunkSize: chunkSize) { scanner, token in
            guard case .start(let name, let tag, _) = token else { return }
            if scanner.localName(name, is: "workbookPr") {
                let v = scanner.attributeString("date1904", in: tag)
                date1904 = v == "1" || v == "true"
                return
            }
            guard scanner.localName(name, is: "sheet") else { return }
            let state = scanner.attributeString("state", in: tag) ?? "visible"
            declared.append(
                (
                    name: scanner.attributeString("name", in: tag) ?? "",
                    relationship: scanner.attributeString("id", in: tag) ?? "",
                    hidden: state == "hidden" || state == "veryHidden"
                ))
        }
        let relationshipsPart = ImportWorkbook.relationshipsPart(for: workbookPart)
        let relationships =
            archive.entry(named: relationshipsPart) == nil
            ? []
            : try ImportWorkbook.relationships(
                in: archive, partName: relationshipsPart, sourcePart: workbookPart, chunkSize: chunkSize)
        var sheets: [Sheet] = []
        for (index, entry) in declared.enumerated() {
            if let relationship = relationships.first(where: { $0.id == entry.relationship }) {
                guard relationship.type.hasSuffix("/worksheet") else { continue }
                sheets.append(Sheet(name: entry.name, partName: relationship.target, isHidden: entry.hidden))
            } else if archive.entry(named: "xl/worksheets/sheet\(index + 1).xml") != nil {
                sheets.append(
                    Sheet(name: entry.name, partName: "xl/worksheets/sheet\(index + 1).xml", isHidden: entry.hidden))
            }
        }
        if sheets.isEmpty, archive.entry(named: "xl/worksheets/sheet1.xml") != nil {
            sheets.append(Sheet(name: "Sheet1", partName: "xl/worksheets/sheet1.xml", isHidden: false))
        }
        let chosen: Sheet?
        if let sheetName {
            chosen = sheets.first { $0.name == sheetName }
                ?? sheets.first { $0.name.lowercased() == sheetName.lowercased() }
        } else {
            chosen = sheets.first { !$0.isHidden } ?? sheets.first
        }
        guard let chosen else {
            let reason = sheetName.map { "no worksheet named \"\($0)\"" } ?? "the workbook has no worksheet"
            throw ImportError(.malformedFile, path: archive.file.path, reason: reason)
        }
        guard archive.entry(named: chosen.partName) != nil else {
            throw ImportError(
                .malformedFile, path: archive.file.path, reason: "worksheet part \(chosen.partName) is missing")
        }
        self.sheet = chosen

        // Shared strings: the whole table is needed before the first row; it is the one part held in memory.
        var sharedStringsPart: String? = relationships.first { $0.type.hasSuffix("/sharedStrings") }?.target
        if sharedStringsPart == nil, archive.entry(named: "xl/sharedStrings.xml") != nil {
            sharedStringsPart = "xl/sharedStrings.xml"
        }
        if let sharedStringsPart, let entry = archive.entry(named: sharedStringsPart) {
            self.sharedStrings = try ImportWorkbook.readSharedStrings(
                archive: archive, entry: entry, maximumBytes: maximumSharedStringsBytes, chunkSize: chunkSize)
        } else {
            self.sharedStrings = ImportSharedStrings()
        }

        // Dates are numbers with a date format: the styles part says which cell styles have one.
        self.date1904 = date1904
        var stylesPart: String? = relationships.first { $0.type.hasSuffix("/styles") }?.target
        if stylesPart == nil, archive.entry(named: "xl/styles.xml") != nil { stylesPart = "xl/styles.xml" }
        if let stylesPart, archive.entry(named: stylesPart) != nil {
            self.dateStyles = try ImportWorkbook.readDateStyles(archive: archive, partName: stylesPart, chunkSize: chunkSize)
        } else {
            self.dateStyles = []
        }
    }

    /// The `cellXfs` indexes whose number format shows a date or time.
    private static func readDateStyles(archive: ImportZipArchive, partName: String, chunkSize: Int) throws -> Set<Int> {
        var custom: [Int: String] = [:]
        var formats: [Int] = []
        var inCellXfs = false
        try ImportWorkbook.scan(archive: archive, partName: partName, chunkSize: chunkSize) { scanner, token in
            switch token {
            case .start(let name, let tag, let selfClosing):
                if scanner.localName(name, is: "numFmt"), let id = scanner.attributeString("numFmtId", in: tag).flatMap({ Int($0) }) {
                    custom[id] = scanner.attributeString("formatCode", in: tag) ?? ""
                } else if scanner.localName(name, is: "cellXfs") {
                    inCellXfs = !selfClosing
                } else if inCellXfs && scanner.localName(name, is: "xf") {
                    formats.append(scanner.attributeString("numFmtId", in: tag).flatMap { Int($0) } ?? 0)
                }
            case .end(let name):
                if scanner.localName(name, is: "cellXfs") { inCellXfs = false }
            default:
                break
            }
        }
        var styles = Set<Int>()
        for (index, id) in formats.enumerated() where ImportDates.isDateFormat(id: id, code: custom[id]) { styles.insert(index) }
        return styles
    }

    /// Runs `body` on every token of a small part.
    private static func scan(
        archive: ImportZipArchive, partName: String, chunkSize: Int,
        _ body: (ImportXMLScanner, ImportXMLScanner.Token) throws -> Void
    ) throws {
        guard let entry = archive.entry(named: partName) else { return }
        guard entry.uncompressedSize <= Int64(ImportWorkbook.maximumSmallPartBytes) else {
            throw ImportError(
                .unsupportedFormat, path: archive.file.path, reason: "\(partName) is larger than expected")
        }
        let reader = try archive.open(entry)
        let scanner = ImportXMLScanner(
            source: reader, chunkSize: chunkSize, maximumTokenBytes: ImportWorkbook.maximumSmallPartBytes,
            path: archive.file.path, partName: partName)
        while let token = try scanner.next() {
            try body(scanner, token)
        }
    }

    struct Relationship {
        var id: String
        var type: String
        var target: String
    }

    private static func relationships(
        in archive: ImportZipArchive, partName: String, sourcePart: String, chunkSize: Int
    ) throws -> [Relationship] {
        var found: [Relationship] = []
        try ImportWorkbook.scan(archive: archive, partName: partName, chunkSize: chunkSize) { scanner, token in
            guard case .start(let name, let tag, _) = token, scanner.localName(name, is: "Relationship"),
                scanner.attributeString("TargetMode", in: tag) != "External",
                let target = scanner.attributeString("Target", in: tag)
            else { return }
            found.append(
                Relationship(
                    id: scanner.attributeString("Id", in: tag) ?? "",
                    type: scanner.attributeString("Type", in: tag) ?? "",
                    target: ImportWorkbook.resolve(target, from: sourcePart)))
        }
        return found
    }

    /// `xl/workbook.xml` → `xl/_rels/workbook.xml.rels`.
    static func relationshipsPart(for partName: String) -> String {
        guard let slash = partName.lastIndex(of: "/") else { return "_rels/\(partName).rels" }
        return "\(partName[...slash])_rels/\(partName[partName.index(after: slash)...]).rels"
    }

    /// Resolves a relationship target against the folder of the part that declares it.
    static func resolve(_ target: String, from sourcePart: String) -> String {
        var segments: [Substring] = []
        if !target.hasPrefix("/") {
            segments = sourcePart.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        }
        for segment in target.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        return segments.joined(separator: "/")
    }

    private static func readSharedStrings(
        archive: ImportZipArchive, entry: ImportZipArchive.Entry, maximumBytes: Int, chunkSize: Int
    ) throws -> ImportSharedStrings {
        let reader = try archive.open(entry)
        let scanner = ImportXMLScanner(
            source: reader, chunkSize: chunkSize, maximumTokenBytes: ImportWorkbook.maximumSmallPartBytes,
            path: archive.file.path, partName: entry.name)
        var strings = ImportSharedStrings()
        var current: [UInt8] = []
        var inItem = false
        var inText = false
        var phoneticDepth = 0
        var total = 0
        while let token = try scanner.next() {
            switch token {
            case .start(let name, let tag, let selfClosing):
                switch scanner.element(name) {
                case .stringItem:
                    if selfClosing {
                        strings.append([])
                    } else {
                        inItem = true
                        current.removeAll(keepingCapacity: true)
                    }
                case .phonetic:
                    if !selfClosing { phoneticDepth += 1 }
                case .text:
                    inText = !selfClosing
                default:
                    if scanner.localName(name, is: "sst"),
                        let count = scanner.attributeString("uniqueCount", in: tag).flatMap({ Int($0) })
                    {
                        strings.ends.reserveCapacity(min(count, 1 << 20))
                    }
                }
            case .end(let name):
                switch scanner.element(name) {
                case .stringItem:
                    strings.append(current)
                    inItem = false
                case .phonetic:
                    phoneticDepth = max(0, phoneticDepth - 1)
                case .text:
                    inText = false
                default:
                    break
                }
            case .text(let range):
                if inItem && inText && phoneticDepth == 0 {
                    let before = current.count
                    scanner.appendDecoded(range, to: &current)
                    total += current.count - before
                }
            case .cdata(let range):
                if inItem && inText && phoneticDepth == 0 {
                    current.append(contentsOf: scanner.buffer[range])
                    total += range.count
                }
            }
            if total > maximumBytes {
                throw ImportError(
                    .unsupportedFormat, path: archive.file.path,
                    reason: "shared strings larger than \(maximumBytes) bytes")
            }
        }
        return strings
    }
}

/// Streams the rows of one worksheet part.
final class ImportSheetReader {
    struct Row {
        var fields: [String]
        var kinds: [ImportCellKind]
        var rowNumber: Int
        /// Why the row is malformed (a shared-string index out of range, a row over the size limit), if it is.
        var problem: String?
    }

    /// The highest column Excel has (XFD).
    static let maximumColumns = 16_384

    private let scanner: ImportXMLScanner
    private let entryReader: ImportZipEntryReader
    private let sharedStrings: ImportSharedStrings
    private let dateStyles: Set<Int>
    private let date1904: Bool
    private let maximumRowBytes: Int
    private let path: String
    private var previousRowNumber = 0
    private var widthHint = 8

    init(workbook: ImportWorkbook, chunkSize: Int, maximumRowBytes: Int) throws {
        guard let entry = workbook.archive.entry(named: workbook.sheet.partName) else {
            throw ImportError(.malformedFile, path: workbook.archive.file.path, reason: "worksheet part missing")
        }
        self.entryReader = try workbook.archive.open(entry)
        self.entryReader.readSize = max(1024, chunkSize)
        self.scanner = ImportXMLScanner(
            source: self.entryReader, chunkSize: chunkSize, maximumTokenBytes: max(maximumRowBytes, 1 << 20),
            path: workbook.archive.file.path, partName: entry.name)
        self.sharedStrings = workbook.sharedStrings
        self.dateStyles = workbook.dateStyles
        self.date1904 = workbook.date1904
        self.maximumRowBytes = maximumRowBytes
        self.path = workbook.archive.file.path
    }

    /// Compressed bytes of the worksheet read so far, and in all.
    var progress: (consumed: Int64, total: Int64) {
        (self.entryReader.compressedConsumed, self.entryReader.entry.compressedSize)
    }

    private enum CellType {
        case number, sharedString, string, boolean, error, date
    }

    /// The next `<row>`, or `nil` at the end of the worksheet.
    func nextRow() throws -> Row? {
        var row: Row?
        var column = 0
        var cellType = CellType.number
        var cellIsDate = false
        var value: [UInt8] = []
        var inCell = false
        var inValue = false
        var inInline = false
        var inText = false
        var phoneticDepth = 0
        var rowBytes = 0

        func place(_ text: String, _ kind: ImportCellKind, at column: Int) {
            guard row != nil else { return }
            while row!.fields.count < column {
                row!.fields.append("")
                row!.kinds.append(.empty)
            }
            if column < row!.fields.count {
                row!.fields[column] = text
                row!.kinds[column] = kind
            } else {
                row!.fields.append(text)
                row!.kinds.append(kind)
            }
        }

        func finishCell() {
            inCell = false
            guard row != nil else { return }
            var text = String(decoding: value, as: UTF8.self)
            var kind = ImportCellKind.empty
            if !value.isEmpty {
                switch cellType {
                case .number:
                    kind = .number
                    if cellIsDate, let serial = Double(text), let iso = ImportDates.iso(serial: serial, date1904: self.date1904) {
                        text = iso
                        kind = .date
                    }
                case .sharedString:
                    if let index = Int(text), index >= 0, index < self.sharedStrings.count {
                        text = self.sharedStrings.string(at: index)
                        kind = text.isEmpty ? .empty : .text
                    } else {
                        row!.problem = row!.problem ?? "shared string index \(text) out of range"
                        text = ""
                    }
                case .string:
                    text = ImportXMLScanner.unescapeOOXML(text)
                    kind = .text
                case .boolean:
                    text = text == "1" ? "TRUE" : text == "0" ? "FALSE" : text
                    kind = .boolean
                case .error:
                    kind = .error
                case .date:
                    kind = .date
                }
            }
            place(text, kind, at: column)
        }

        while let token = try self.scanner.next() {
            switch token {
            case .start(let name, let tag, let selfClosing):
                switch self.scanner.element(name) {
                case .cell:
                    guard row != nil else { continue }
                    let next = row!.fields.count
                    column = self.scanner.attribute("r", in: tag).flatMap { self.column(in: $0) } ?? next
                    cellType = self.cellType(in: tag)
                    // Only numbers can be serial dates; most workbooks have no date styles at all.
                    cellIsDate = !self.dateStyles.isEmpty && cellType == .number
                        && (self.scanner.attributeString("s", in: tag).flatMap { Int($0) }.map(self.dateStyles.contains) ?? false)
                    value.removeAll(keepingCapacity: true)
                    inCell = true
                    inValue = false
                    inInline = false
                    inText = false
                    phoneticDepth = 0
                    if selfClosing { finishCell() }
                case .value:
                    inValue = inCell && !selfClosing
                case .inlineString:
                    inInline = inCell && !selfClosing
                case .text:
                    inText = inInline && !selfClosing
                case .phonetic:
                    if !selfClosing { phoneticDepth += 1 }
                case .row:
                    let number =
                        self.scanner.attributeString("r", in: tag).flatMap { Int($0) } ?? (self.previousRowNumber + 1)
                    self.previousRowNumber = number
                    row = Row(fields: [], kinds: [], rowNumber: number, problem: nil)
                    row!.fields.reserveCapacity(self.widthHint)
                    row!.kinds.reserveCapacity(self.widthHint)
                    if selfClosing { return row }
                default:
                    break
                }
            case .end(let name):
                switch self.scanner.element(name) {
                case .cell:
                    if inCell { finishCell() }
                case .value:
                    inValue = false
                case .inlineString:
                    inInline = false
                case .text:
                    inText = false
                case .phonetic:
                    phoneticDepth = max(0, phoneticDepth - 1)
                case .row:
                    if let finished = row {
                        self.widthHint = max(self.widthHint, finished.fields.count)
                        return finished
                    }
                case .sheetData:
                    return nil
                default:
                    break
                }
            case .text(let range), .cdata(let range):
                guard inCell && (inValue || (inText && phoneticDepth == 0)) else { continue }
                rowBytes += range.count
                if rowBytes > self.maximumRowBytes {
                    row?.problem = "row larger than \(self.maximumRowBytes) bytes"
                    continue
                }
                if case .cdata = token {
                    value.append(contentsOf: self.scanner.buffer[range])
                } else {
                    self.scanner.appendDecoded(range, to: &value)
                }
            }
        }
        if row != nil {
            throw ImportError(.malformedFile, path: self.path, reason: "worksheet ends inside a row")
        }
        return nil
    }

    private func cellType(in tag: Range<Int>) -> CellType {
        guard let range = self.scanner.attribute("t", in: tag) else { return .number }
        return self.scanner.buffer.withUnsafeBufferPointer { bytes in
            switch range.count {
            case 1:
                switch bytes[range.lowerBound] {
                case UInt8(ascii: "s"): return .sharedString
                case UInt8(ascii: "b"): return .boolean
                case UInt8(ascii: "e"): return .error
                case UInt8(ascii: "d"): return .date
                default: return .number
                }
            case 3 where bytes[range.lowerBound] == UInt8(ascii: "s"):
                return .string
            case 9 where bytes[range.lowerBound] == UInt8(ascii: "i"):
                return .string
            default:
                return .number
            }
        }
    }

    /// The 0-based column of a cell reference such as `B2` or `$AA$10`, or `nil` if it has none.
    private func column(in range: Range<Int>) -> Int? {
        self.scanner.buffer.withUnsafeBufferPointer { bytes in
            var column = 0
            var letters = 0
            loop: for index in range {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    column = column * 26 + Int(byte - UInt8(ascii: "A")) + 1
                    letters += 1
                case UInt8(ascii: "a")...UInt8(ascii: "z"):
                    column = column * 26 + Int(byte - UInt8(ascii: "a")) + 1
                    letters += 1
                case UInt8(ascii: "$"):
                    continue
                default:
                    break loop
                }
                if letters > 3 { return nil }
            }
            guard letters > 0, column <= ImportSheetReader.maximumColumns else { return nil }
            return column - 1
        }
    }
}

/// A workbook's shared-string table, packed into one byte array: a string per cell costs its UTF-8 bytes and
/// one offset, instead of a heap object each (a sheet of a million unique e-mail addresses holds them all).
struct ImportSharedStrings {
    private(set) var bytes: [UInt8] = []
    /// End offset in ``bytes`` of each string.
    var ends: [Int] = []

    var count: Int { self.ends.count }

    /// Appends one string item's text, decoding `_xHHHH_` escapes.
    mutating func append(_ text: [UInt8]) {
        if text.contains(UInt8(ascii: "_")) {
            let unescaped = ImportXMLScanner.unescapeOOXML(String(decoding: text, as: UTF8.self))
            self.bytes.append(contentsOf: unescaped.utf8)
        } else {
            self.bytes.append(contentsOf: text)
        }
        self.ends.append(self.bytes.count)
    }

    func string(at index: Int) -> String {
        let start = index == 0 ? 0 : self.ends[index - 1]
        return self.bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<self.ends[index]]), as: UTF8.self)
        }
    }
}
