import RapportDecoding
import Foundation
import Testing

/// A stray quote must cost one line, not the rest of the file: a row that spans lines and is malformed is
/// refused as its first line, and reading goes on with the next one.
@Suite struct ImportReaderResyncTests {
    typealias Outcome = ImportFixtures.Outcome

    static let chunkSizes = Array(1...17) + [64, 4096, 64 << 10]

    /// Reads `text` with every chunk size (and each of `maximumRowBytes`) and expects the same outcomes.
    static func expectEverywhere(
        _ text: String, _ expected: [Outcome], maximumRowBytes: [Int] = [1 << 20],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let path = try ImportFixtures.write(text)
        for limit in maximumRowBytes {
            for chunkSize in Self.chunkSizes {
                var configuration = ImportReader.Configuration()
                configuration.chunkSize = chunkSize
                configuration.maximumRowBytes = limit
                let reader = try ImportReader(path: path, configuration: configuration)
                let outcomes = [.row(reader.header, line: 0)] + (try ImportFixtures.readAll(reader))
                #expect(outcomes == expected, "chunk \(chunkSize), limit \(limit)", sourceLocation: sourceLocation)
                #expect(reader.bytesConsumed == reader.totalBytes, sourceLocation: sourceLocation)
            }
        }
    }

    /// The reported fault: 19 data rows, an unbalanced quote on line 5 and extra columns on line 9.
    static func faultyExport(lineEnding: String) -> String {
        var lines = ["id,name,email,city"]
        for number in 1...19 {
            let line = number + 1
            switch line {
            case 5: lines.append("\(number),\"Eve,eve@example.com,Berlin")
            case 9: lines.append("\(number),Bob,bob@example.com,Paris,extra,columns")
            // A well-quoted field later on: the stray quote closes here and leaves a row of the wrong width.
            case 12: lines.append("\(number),\"Doe, Jane\",jane@example.com,Rome")
            default: lines.append("\(number),User \(number),u\(number)@example.com,City \(number)")
            }
        }
        return lines.joined(separator: lineEnding) + lineEnding
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func unbalancedQuoteAndExtraColumnsLoseNoRows(lineEnding: String) throws {
        let path = try ImportFixtures.write(Self.faultyExport(lineEnding: lineEnding))
        for limit in [1 << 20, 100] {
            for chunkSize in Self.chunkSizes {
                var configuration = ImportReader.Configuration()
                configuration.chunkSize = chunkSize
                configuration.maximumRowBytes = limit
                let reader = try ImportReader(path: path, configuration: configuration)
                var good: [Int] = []
                var refused: [Int: String] = [:]
                while true {
                    do {
                        guard let row = try reader.next() else { break }
                        // A ragged row is the mapping step's to refuse (MappedDecoder does).
                        if row.isRagged { refused[row.lineNumber] = "ragged" } else { good.append(row.lineNumber) }
                    } catch let error as ImportError where error.isRowError {
                        #expect(error.code == .malformedRow)
                        #expect(error.path == path)
                        refused[error.lineNumber ?? 0] = error.reason
                    }
                }
                let context = Comment(rawValue: "chunk \(chunkSize), limit \(limit), ending \(lineEnding.debugDescription)")
                #expect(good == Array(2...20).filter { $0 != 5 && $0 != 9 }, context)
                #expect(refused.keys.sorted() == [5, 9], context)
                #expect(refused[5]?.contains(limit == 100 ? "larger than 100 bytes" : "leaves the row with") == true, context)
                #expect(good.count + refused.count == 19, context)
            }
        }
    }

    @Test func multiLineQuotedCellIsOneRow() throws {
        try Self.expectEverywhere(
            "id,note,city\r\n1,\"first line\r\nsecond, \"\"quoted\"\"\nthird\",Berlin\r\n2,plain,Paris\r\n",
            [
                .row(["id", "note", "city"], line: 0),
                .row(["1", "first line\r\nsecond, \"quoted\"\nthird", "Berlin"], line: 2),
                .row(["2", "plain", "Paris"], line: 5),
            ], maximumRowBytes: [1 << 20, 48])
    }

    @Test func multiLineRowOfTheWrongWidthIsRefusedAsItsFirstLine() throws {
        // Line 2's quote closes on line 3, but the row then has 3 fields: only line 2 is refused and line 3
        // is read again as a row of its own (its quote is literal there).
        try Self.expectEverywhere(
            "a,b\n1,\"x\ny\",extra\n2,z\n",
            [
                .row(["a", "b"], line: 0), .error(.malformedRow, line: 2, byteOffset: nil),
                .row(["y\"", "extra"], line: 3), .row(["2", "z"], line: 4),
            ])
    }

    @Test func unterminatedQuoteAtEndOfFile() throws {
        try Self.expectEverywhere(
            "a,b\n1,2\n3,\"never closed\n4,5\n6,7",
            [
                .row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .error(.malformedRow, line: 3, byteOffset: nil),
                .row(["4", "5"], line: 4), .row(["6", "7"], line: 5),
            ], maximumRowBytes: [1 << 20, 10])
        // On the last line, with and without a final line break.
        try Self.expectEverywhere(
            "a,b\n1,2\n3,\"open",
            [.row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .error(.malformedRow, line: 3, byteOffset: nil)])
        try Self.expectEverywhere(
            "a,b\r\n1,2\r\n3,\"open\r\n",
            [.row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .error(.malformedRow, line: 3, byteOffset: nil)])
    }

    @Test func refusedLineCarriesItsFieldsAndReason() throws {
        let path = try ImportFixtures.write("a,b,c\n1,\"open,x\n2,y,z\n")
        let reader = try ImportReader(path: path)
        let error = try #require(throws: ImportError.self) { try reader.next() }
        #expect(error.code == .malformedRow)
        #expect(error.lineNumber == 2)
        #expect(error.fields == ["1", "open,x"])
        #expect(error.reason == "quoted field never closed")
        #expect(try reader.next()?.fields == ["2", "y", "z"])
        #expect(try reader.next() == nil)
    }

    @Test func strayQuoteInALongFileStaysBoundedAndResynchronises() throws {
        // The quote on line 5 would swallow everything; the limit stops it and line 6 on are read.
        var text = "id,value\n"
        for number in 1...500 { text += number == 4 ? "4,\"stray\n" : "\(number),v\(number)\n" }
        var expected: [Outcome] = [.row(["id", "value"], line: 0)]
        for number in 1...500 {
            expected.append(number == 4 ? .error(.malformedRow, line: 5, byteOffset: nil) : .row(["\(number)", "v\(number)"], line: number + 1))
        }
        let path = try ImportFixtures.write(text)
        for chunkSize in [1, 7, 64, 4096] {
            var configuration = ImportReader.Configuration()
            configuration.chunkSize = chunkSize
            configuration.maximumRowBytes = 256
            let reader = try ImportReader(path: path, configuration: configuration)
            #expect([.row(reader.header, line: 0)] + (try ImportFixtures.readAll(reader)) == expected, "chunk \(chunkSize)")
        }
    }

    @Test func encodingErrorAfterARefusedLineKeepsItsOwnLine() throws {
        // Line 3's stray quote spans line 4, whose bad byte is line 4's error, not line 3's.
        let prefix = Array("a,b\n1,Zürich\n2,\"stray\n3,ba".utf8)
        let bytes = prefix + [0x80] + Array("d\n4,fine\n".utf8)
        let path = try ImportFixtures.write(bytes)
        for chunkSize in [1, 3, 5, 64 << 10] {
            var configuration = ImportReader.Configuration()
            configuration.chunkSize = chunkSize
            configuration.encoding = .utf8
            let reader = try ImportReader(path: path, configuration: configuration)
            let outcomes = [.row(reader.header, line: 0)] + (try ImportFixtures.readAll(reader))
            #expect(
                outcomes == [
                    .row(["a", "b"], line: 0), .row(["1", "Zürich"], line: 2),
                    .error(.malformedRow, line: 3, byteOffset: nil),
                    .error(.badEncoding, line: 4, byteOffset: Int64(prefix.count)),
                    .row(["4", "fine"], line: 5),
                ], "chunk \(chunkSize): \(outcomes)")
        }
    }
}
