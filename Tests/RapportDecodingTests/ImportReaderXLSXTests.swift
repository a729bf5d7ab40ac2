import RapportDecoding
import Foundation
import Testing

@Suite struct ImportReaderXLSXTests {
    static let sharedStrings = [
        "<t>姓名</t>",
        "<t>电话</t>",
        "<t>Date</t>",
        "<t>Note</t>",
        "<r><t>张</t></r><r><rPr><b/></rPr><t>伟</t></r><rPh sb=\"0\" eb=\"1\"><t>チョウ</t></rPh>",
        "<t xml:space=\"preserve\"> spaced _x000D_\nline</t>",
        "<t>Tom &amp; Jerry</t>",
        "<t>extra</t>",
    ]

    /// Shared strings, inline strings (plain and rich), numbers, a date serial, a boolean, a formula string,
    /// an error, skipped cells and a skipped row, blank rows, and a cell past the header.
    static func sheetData(prefix: String = "") -> String {
        let p = prefix.isEmpty ? "" : "\(prefix):"
        return """
            <\(p)row r="1" spans="1:5"><\(p)c r="A1" t="s"><\(p)v>0</\(p)v></\(p)c><\(p)c r="B1" t="s"><\(p)v>1</\(p)v></\(p)c>\
            <\(p)c r="C1" t="s"><\(p)v>2</\(p)v></\(p)c><\(p)c r="D1" t="inlineStr"><\(p)is><\(p)t>Active</\(p)t></\(p)is></\(p)c>\
            <\(p)c r="E1" t="s"><\(p)v>3</\(p)v></\(p)c><\(p)c r="F1" s="4"/></\(p)row>
            <\(p)row r="2"><\(p)c r="A2" t="s"><\(p)v>4</\(p)v></\(p)c><\(p)c r="B2"><\(p)v>13800138000</\(p)v></\(p)c>\
            <\(p)c r="C2" s="1"><\(p)v>45292</\(p)v></\(p)c><\(p)c r="D2" t="b"><\(p)v>1</\(p)v></\(p)c>\
            <\(p)c r="E2" t="inlineStr"><\(p)is><\(p)r><\(p)t>rich </\(p)t></\(p)r><\(p)r><\(p)rPr><\(p)b/></\(p)rPr><\(p)t xml:space="preserve">text</\(p)t></\(p)r></\(p)is></\(p)c></\(p)row>
            <\(p)row r="3"><\(p)c r="A3" t="s"><\(p)v>5</\(p)v></\(p)c><\(p)c r="C3"><\(p)v>0.5</\(p)v></\(p)c>\
            <\(p)c r="E3" t="str"><\(p)f>A3&amp;"!"</\(p)f><\(p)v>x &lt;y&gt; &amp; z</\(p)v></\(p)c></\(p)row>
            <\(p)row r="5"><\(p)c r="B5" t="e"><\(p)v>#N/A</\(p)v></\(p)c></\(p)row>
            <\(p)row r="6"><\(p)c r="A6" t="s"><\(p)v>6</\(p)v></\(p)c><\(p)c r="B6"/><\(p)c r="G6" t="s"><\(p)v>7</\(p)v></\(p)c></\(p)row>
            <\(p)row r="7"/>
            <\(p)row r="8"><\(p)c r="A8" s="3"/><\(p)c r="B8" s="3"/></\(p)row>
            """
    }

    struct Expected: Equatable {
        var fields: [String]
        var kinds: [ImportCellKind]
        var line: Int
    }

    static let expectedHeader = ["姓名", "电话", "Date", "Active", "Note"]
    static let expectedRows: [Expected] = [
        Expected(
            fields: ["张伟", "13800138000", "45292", "TRUE", "rich text"],
            kinds: [.text, .number, .number, .boolean, .text], line: 2),
        Expected(
            fields: [" spaced \r\nline", "", "0.5", "", "x <y> & z"], kinds: [.text, .empty, .number, .empty, .text],
            line: 3),
        Expected(fields: ["", "#N/A", "", "", ""], kinds: [.empty, .error, .empty, .empty, .empty], line: 5),
        Expected(
            fields: ["Tom & Jerry", "", "", "", "", "", "extra"],
            kinds: [.text, .empty, .empty, .empty, .empty, .empty, .text], line: 6),
    ]

    static func readRows(_ reader: ImportReader) throws -> [Expected] {
        var rows: [Expected] = []
        while let row = try reader.next() {
            rows.append(Expected(fields: row.fields, kinds: row.cellKinds, line: row.lineNumber))
        }
        return rows
    }

    @Test(arguments: [(stored: false, zip64: false), (stored: true, zip64: false), (stored: false, zip64: true)])
    func readsFirstSheetWithAllCellKinds(variant: (stored: Bool, zip64: Bool)) throws {
        let path = try ImportFixtures.zip(
            ImportFixtures.workbookParts(
                sheetData: ImportReaderXLSXTests.sheetData(), sharedStrings: ImportReaderXLSXTests.sharedStrings),
            stored: variant.stored, zip64: variant.zip64)
        if variant.zip64 {
            // zipfile keeps the classic end record's fields when they fit; saturate them as a ZIP64 writer
            // does for big archives, so that the reader has to follow the ZIP64 locator.
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let zip64EndRecord: [UInt8] = [0x50, 0x4B, 0x06, 0x06]
            #expect(bytes.indices.contains { bytes[$0...].starts(with: zip64EndRecord) }, "fixture has a ZIP64 end record")
            let end = try #require(bytes.indices.last { bytes[$0...].starts(with: [0x50, 0x4B, 0x05, 0x06]) })
            for offset in (end + 8)..<(end + 20) { bytes[offset] = 0xFF }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let reader = try ImportReader(path: path)
        #expect(reader.format == .xlsx)
        #expect(reader.encoding == nil)
        #expect(reader.delimiter == nil)
        #expect(reader.sheetName == "Leads")
        #expect(reader.header == ImportReaderXLSXTests.expectedHeader)
        let first = try #require(try reader.next())
        #expect(first.isNumeric(at: 1))
        #expect(first.isNumeric(at: 2))
        #expect(!first.isNumeric(at: 0))
        #expect(first.kind(at: 9) == .empty)
        #expect(first.index == 1)
        let rest = try ImportReaderXLSXTests.readRows(reader)
        #expect(
            [Expected(fields: first.fields, kinds: first.cellKinds, line: first.lineNumber)] + rest
                == ImportReaderXLSXTests.expectedRows)
        #expect(reader.bytesConsumed == reader.totalBytes)
        #expect(reader.totalBytes > 0)
    }

    @Test func raggedSpreadsheetRowMeansCellsPastTheHeader() throws {
        let path = try ImportFixtures.zip(
            ImportFixtures.workbookParts(
                sheetData: ImportReaderXLSXTests.sheetData(), sharedStrings: ImportReaderXLSXTests.sharedStrings))
        let reader = try ImportReader(path: path)
        var ragged: [Bool] = []
        while let row = try reader.next() { ragged.append(row.isRagged) }
        #expect(ragged == [false, false, false, true])
    }

    @Test func smallChunksGiveTheSameRows() throws {
        let path = try ImportFixtures.zip(
            ImportFixtures.workbookParts(
                sheetData: ImportReaderXLSXTests.sheetData(), sharedStrings: ImportReaderXLSXTests.sharedStrings))
        for chunkSize in [1, 16, 17, 31, 100, 1000] {
            var configuration = ImportReader.Configuration()
            configuration.chunkSize = chunkSize
            let reader = try ImportReader(path: path, configuration: configuration)
            #expect(reader.header == ImportReaderXLSXTests.expectedHeader, "chunk \(chunkSize)")
            #expect(try ImportReaderXLSXTests.readRows(reader) == ImportReaderXLSXTests.expectedRows, "chunk \(chunkSize)")
        }
    }

    @Test func namespacePrefixedParts() throws {
        let path = try ImportFixtures.zip(
            ImportFixtures.workbookParts(
                sheetData: ImportReaderXLSXTests.sheetData(prefix: "x"), sharedStrings: ImportReaderXLSXTests.sharedStrings,
                prefix: "x"))
        let reader = try ImportReader(path: path)
        #expect(reader.header == ImportReaderXLSXTests.expectedHeader)
        #expect(try ImportReaderXLSXTests.readRows(reader) == ImportReaderXLSXTests.expectedRows)
    }

    @Test func skipsHiddenSheetsAndSelectsByName() throws {
        let parts = ImportFixtures.workbookParts(
            sheetData: ImportReaderXLSXTests.sheetData(), sharedStrings: ImportReaderXLSXTests.sharedStrings,
            extraSheets: [
                (name: "Lookup", hidden: true, sheetData: "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>hidden</t></is></c></row>"),
                (name: "Other", hidden: false, sheetData: "<row r=\"1\"><c r=\"A1\"><v>42</v></c></row>"),
            ])
        let path = try ImportFixtures.zip(parts)
        let first = try ImportReader(path: path)
        #expect(first.sheetName == "Other")
        #expect(first.header == ["42"])

        var configuration = ImportReader.Configuration()
        configuration.sheetName = "leads"
        let named = try ImportReader(path: path, configuration: configuration)
        #expect(named.sheetName == "Leads")
        #expect(named.header == ImportReaderXLSXTests.expectedHeader)

        configuration.sheetName = "Missing"
        let missing = #expect(throws: ImportError.self) { try ImportReader(path: path, configuration: configuration) }
        #expect(missing?.code == .malformedFile)
    }

    @Test func badSharedStringIndexIsARowError() throws {
        let data = """
            <row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>
            <row r="2"><c r="A2" t="s"><v>99</v></c></row>
            <row r="3"><c r="A3" t="s"><v>0</v></c></row>
            """
        let path = try ImportFixtures.zip(ImportFixtures.workbookParts(sheetData: data, sharedStrings: ["<t>ok</t>"]))
        let reader = try ImportReader(path: path)
        #expect(
            try ImportFixtures.readAll(reader) == [
                .error(.malformedRow, line: 2, byteOffset: nil), .row(["ok"], line: 3),
            ])
    }

    @Test func damagedArchivesAreFileErrors() throws {
        let good = try ImportFixtures.zip(
            ImportFixtures.workbookParts(
                sheetData: ImportReaderXLSXTests.sheetData(), sharedStrings: ImportReaderXLSXTests.sharedStrings))
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: good)))

        // Cut short: the central directory is gone.
        let truncated = try ImportFixtures.write(Array(bytes.prefix(bytes.count / 2)), name: "cut.xlsx")
        let truncatedError = #expect(throws: ImportError.self) { try ImportReader(path: truncated) }
        #expect(truncatedError?.code == .malformedFile)

        // Every single-byte corruption is either harmless or an ImportError; nothing crashes or hangs.
        var codes: Set<String> = []
        for offset in stride(from: 0, to: bytes.count, by: 7) {
            var damaged = bytes
            damaged[offset] ^= 0x5A
            let path = try ImportFixtures.write(damaged, name: "damaged.xlsx")
            do {
                let reader = try ImportReader(path: path)
                _ = try ImportFixtures.readAll(reader)
            } catch let error as ImportError {
                codes.insert(error.code.description)
            }
        }
        #expect(codes.contains("malformedFile"))
        #expect(codes.isSubset(of: ["malformedFile", "unsupportedFormat", "malformedRow", "badEncoding"]))
    }

    @Test func fileErrorEndsTheStream() throws {
        // A worksheet that stops in the middle of a row.
        let parts = ImportFixtures.workbookParts(sheetData: "", sharedStrings: []).map { part in
            part.0 == "xl/worksheets/sheet1.xml"
                ? (part.0, "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\"><v>2")
                : part
        }
        let reader = try ImportReader(path: try ImportFixtures.zip(parts))
        #expect(reader.header == ["1"])
        let first = #expect(throws: ImportError.self) { try reader.next() }
        #expect(first?.code == .malformedFile)
        #expect(first?.isRowError == false)
        let again = #expect(throws: ImportError.self) { try reader.next() }
        #expect(again?.code == .malformedFile)
    }

    @Test func zipThatIsNotAWorkbook() throws {
        let path = try ImportFixtures.zip([("word/document.xml", "<document/>")], name: "letter.docx")
        let error = #expect(throws: ImportError.self) { try ImportReader(path: path) }
        #expect(error?.code == .unsupportedFormat)
    }

    /// Dates are numbers whose cell style has a date format: built-in (14), a custom Chinese one, a
    /// date-time; a number format with a quoted "d" is not a date; the 1904 date system shifts them.
    @Test(arguments: [false, true])
    func dateStylesTurnSerialsIntoISODates(date1904: Bool) throws {
        let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let styles = """
            <?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="\(main)"><numFmts count="3">\
            <numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>\
            <numFmt numFmtId="165" formatCode="0.00&quot;d&quot;"/><numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm"/></numFmts>\
            <cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>\
            <cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/></cellXfs></styleSheet>
            """
        let serial = date1904 ? "44524" : "45986"
        let sheet = """
            <row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" t="inlineStr"><is><t>b</t></is></c>\
            <c r="C1" t="inlineStr"><is><t>c</t></is></c><c r="D1" t="inlineStr"><is><t>d</t></is></c><c r="E1" t="inlineStr"><is><t>e</t></is></c></row>
            <row r="2"><c r="A2" s="1"><v>\(serial)</v></c><c r="B2" s="2"><v>\(serial)</v></c><c r="C2" s="3"><v>12.5</v></c>\
            <c r="D2" s="4"><v>\(serial).375</v></c><c r="E2" s="1" t="s"><v>0</v></c></row>
            """
        var parts = ImportFixtures.workbookParts(sheetData: sheet, sharedStrings: ["<t>not a number</t>"])
        parts.append(("xl/styles.xml", styles))
        if date1904 {
            parts = parts.map { $0.0 == "xl/workbook.xml" ? ($0.0, $0.1.replacingOccurrences(of: "<sheets>", with: "<workbookPr date1904=\"1\"/><sheets>")) : $0 }
        }
        let reader = try ImportReader(path: try ImportFixtures.zip(parts))
        #expect(reader.header == ["a", "b", "c", "d", "e"])
        let row = try #require(try reader.next())
        #expect(row.fields == ["2025-11-25", "2025-11-25", "12.5", "2025-11-25T09:00:00", "not a number"])
        #expect(row.cellKinds == [.date, .date, .number, .date, .text])
    }
}
