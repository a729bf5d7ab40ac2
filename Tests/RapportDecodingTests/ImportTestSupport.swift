import RapportDecoding
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the import reader tests: temporary files, reading everything, encoding with iconv,
/// and zipping spreadsheet parts with python3's `zipfile`.
enum ImportFixtures {
    /// A fresh folder under the system's temporary directory.
    static func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rapport-import-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `bytes` to a new file named `name` and returns its path.
    static func write(_ bytes: [UInt8], name: String = "input.csv") throws -> String {
        let url = try ImportFixtures.makeDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Writes `text` as UTF-8.
    static func write(_ text: String, name: String = "input.csv") throws -> String {
        try ImportFixtures.write(Array(text.utf8), name: name)
    }

    /// What reading a whole file gave: rows, and row errors in between.
    enum Outcome: Equatable, CustomStringConvertible {
        case row([String], line: Int)
        case error(ImportError.Code, line: Int?, byteOffset: Int64?)

        var description: String {
            switch self {
            case .row(let fields, let line): "row(\(fields), line: \(line))"
            case .error(let code, let line, let offset): "error(\(code), line: \(line.map(String.init) ?? "-"), byte: \(offset.map(String.init) ?? "-"))"
            }
        }
    }

    /// Reads every row, collecting row errors and going on after them.
    static func readAll(_ reader: ImportReader) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        while true {
            do {
                guard let row = try reader.next() else { break }
                outcomes.append(.row(row.fields, line: row.lineNumber))
            } catch let error as ImportError where error.isRowError {
                outcomes.append(.error(error.code, line: error.lineNumber, byteOffset: error.byteOffset))
            }
            if outcomes.count > 1_000_000 { Issue.record("runaway reader"); break }
        }
        return outcomes
    }

    /// Opens `path` and reads all, with the header first as a row at line 0.
    static func readAll(path: String, chunkSize: Int) throws -> [Outcome] {
        var configuration = ImportReader.Configuration()
        configuration.chunkSize = chunkSize
        let reader = try ImportReader(path: path, configuration: configuration)
        return [.row(reader.header, line: 0)] + (try ImportFixtures.readAll(reader))
    }

    /// `text` in `encoding` (an iconv name such as `GB18030` or `UTF-16LE`), converted with glibc's iconv.
    static func encode(_ text: String, as encoding: String) throws -> [UInt8] {
        let descriptor = iconv_open(encoding, "UTF-8")
        guard let descriptor, Int(bitPattern: descriptor) != -1 else {
            throw FixtureError(message: "iconv_open \(encoding) failed")
        }
        defer { iconv_close(descriptor) }
        var input = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        var inputLeft = input.count
        var outputLeft = output.count
        let result = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                var inputPointer = UnsafeMutableRawPointer(inputBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self) as UnsafeMutablePointer<CChar>?
                var outputPointer = UnsafeMutableRawPointer(outputBuffer.baseAddress!)
                    .assumingMemoryBound(to: CChar.self) as UnsafeMutablePointer<CChar>?
                return iconv(descriptor, &inputPointer, &inputLeft, &outputPointer, &outputLeft)
            }
        }
        guard result != -1, inputLeft == 0 else { throw FixtureError(message: "iconv to \(encoding) failed") }
        return Array(output[0..<(output.count - outputLeft)])
    }

    struct FixtureError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }

    /// Zips `parts` (name, content) into a new file with python3's `zipfile`, deflated unless `stored`;
    /// `zip64` lowers zipfile's limits so that every size, offset and the end record use ZIP64 fields.
    static func zip(
        _ parts: [(String, String)], stored: Bool = false, zip64: Bool = false, name: String = "book.xlsx"
    ) throws -> String {
        let directory = try ImportFixtures.makeDirectory()
        let spec = directory.appendingPathComponent("spec.json")
        let output = directory.appendingPathComponent(name)
        let json: [String: Any] = ["stored": stored, "zip64": zip64, "parts": parts.map { [$0.0, $0.1] }]
        try JSONSerialization.data(withJSONObject: json).write(to: spec)
        let script = """
            import json, sys, zipfile
            spec = json.load(open(sys.argv[1], encoding="utf-8"))
            method = zipfile.ZIP_STORED if spec["stored"] else zipfile.ZIP_DEFLATED
            if spec["zip64"]:
                zipfile.ZIP64_LIMIT = 1
                zipfile.ZIP_FILECOUNT_LIMIT = 1
            with zipfile.ZipFile(sys.argv[2], "w", method) as archive:
                for name, content in spec["parts"]:
                    archive.writestr(name, content.encode("utf-8"))
            """
        try ImportFixtures.run(["python3", "-c", script, spec.path, output.path])
        return output.path
    }

    /// Runs a command found on `PATH`, failing if it exits non-zero.
    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                message: "\(arguments[0]) exited \(process.terminationStatus): \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// The parts of a minimal workbook whose one visible sheet is `sheetXML` (the rows inside `<sheetData>`).
    static func workbookParts(
        sheetData: String, sharedStrings: [String], extraSheets: [(name: String, hidden: Bool, sheetData: String)] = [],
        prefix: String = ""
    ) -> [(String, String)] {
        let p = prefix.isEmpty ? "" : "\(prefix):"
        let xmlns = prefix.isEmpty ? "xmlns" : "xmlns:\(prefix)"
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let officeRelationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        // Extra sheets come first in tab order, so that a hidden one precedes the visible "Leads".
        var sheets = ""
        var relationships = ""
        var parts: [(String, String)] = []
        var number = 1
        for extra in extraSheets {
            sheets += "<\(p)sheet name=\"\(extra.name)\" sheetId=\"\(number)\" \(extra.hidden ? "state=\"hidden\" " : "")r:id=\"rId\(number)\"/>"
            relationships += "<Relationship Id=\"rId\(number)\" Type=\"\(officeRelationships)/worksheet\" Target=\"worksheets/sheet\(number).xml\"/>"
            parts.append(("xl/worksheets/sheet\(number).xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><\(p)worksheet \(xmlns)=\"\(main)\"><\(p)sheetData>\(extra.sheetData)</\(p)sheetData></\(p)worksheet>"))
            number += 1
        }
        sheets += "<\(p)sheet name=\"Leads\" sheetId=\"\(number)\" r:id=\"rId\(number)\"/>"
        relationships += "<Relationship Id=\"rId\(number)\" Type=\"\(officeRelationships)/worksheet\" Target=\"/xl/worksheets/sheet\(number).xml\"/>"
        parts.append(("xl/worksheets/sheet\(number).xml", "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<\(p)worksheet \(xmlns)=\"\(main)\" xmlns:r=\"\(officeRelationships)\"><\(p)dimension ref=\"A1:E9\"/><\(p)sheetData>\(sheetData)</\(p)sheetData><\(p)pageMargins left=\"0.7\"/></\(p)worksheet>"))
        relationships += "<Relationship Id=\"rIdS\" Type=\"\(officeRelationships)/sharedStrings\" Target=\"sharedStrings.xml\"/>"
        let items = sharedStrings.map { "<\(p)si>\($0)</\(p)si>" }.joined()
        return [
            ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"),
            ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"\(officeRelationships)/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"),
            ("xl/workbook.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(p)workbook \(xmlns)=\"\(main)\" xmlns:r=\"\(officeRelationships)\"><\(p)sheets>\(sheets)</\(p)sheets></\(p)workbook>"),
            ("xl/_rels/workbook.xml.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\(relationships)</Relationships>"),
            ("xl/sharedStrings.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(p)sst \(xmlns)=\"\(main)\" count=\"\(sharedStrings.count)\" uniqueCount=\"\(sharedStrings.count)\">\(items)</\(p)sst>"),
        ] + parts
    }
}
