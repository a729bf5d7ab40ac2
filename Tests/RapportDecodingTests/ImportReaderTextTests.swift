import RapportDecoding
import Foundation
import Testing

/// The decoder looks at 512 bytes after the first non-ASCII byte before it decides.
enum ImportTextDecoderWindow {
    static let size = 512
}

@Suite struct ImportReaderTextTests {
    typealias Outcome = ImportFixtures.Outcome

    @Test func readsUTF8WithHeaderAndLineNumbers() throws {
        let path = try ImportFixtures.write("name,phone,email\n张伟,13800138000,zhang@example.com\nAnna,+49 30 1234,anna@example.de\n")
        let reader = try ImportReader(path: path)
        #expect(reader.format == .delimitedText)
        #expect(reader.encoding == .utf8)
        #expect(reader.delimiter == ",")
        #expect(reader.header == ["name", "phone", "email"])
        let first = try #require(try reader.next())
        #expect(first.fields == ["张伟", "13800138000", "zhang@example.com"])
        #expect(first.lineNumber == 2)
        #expect(first.index == 1)
        #expect(!first.isRagged)
        #expect(first.cellKinds.isEmpty)
        #expect(first.kind(at: 0) == .text)
        let second = try #require(try reader.next())
        #expect(second.lineNumber == 3)
        #expect(second.index == 2)
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
        #expect(reader.bytesConsumed == reader.totalBytes)
        #expect(reader.fractionCompleted == 1)
    }

    @Test func stripsUTF8ByteOrderMark() throws {
        let path = try ImportFixtures.write([0xEF, 0xBB, 0xBF] + Array("姓名,电话\r\n王芳,010-12345678\r\n".utf8))
        let reader = try ImportReader(path: path)
        #expect(reader.encoding == .utf8)
        #expect(reader.header == ["姓名", "电话"])
        #expect(try ImportFixtures.readAll(reader) == [.row(["王芳", "010-12345678"], line: 2)])
    }

    /// `姓名,电话\r\n张伟,13800138000\r\n李娜,"北京市, 朝阳区"\r\n` as Excel writes it on a Chinese system (GBK).
    static let gbkBytes: [UInt8] = [
        0xD0, 0xD5, 0xC3, 0xFB, 0x2C, 0xB5, 0xE7, 0xBB, 0xB0, 0x0D, 0x0A, 0xD5, 0xC5, 0xCE, 0xB0, 0x2C, 0x31, 0x33,
        0x38, 0x30, 0x30, 0x31, 0x33, 0x38, 0x30, 0x30, 0x30, 0x0D, 0x0A, 0xC0, 0xEE, 0xC4, 0xC8, 0x2C, 0x22, 0xB1,
        0xB1, 0xBE, 0xA9, 0xCA, 0xD0, 0x2C, 0x20, 0xB3, 0xAF, 0xD1, 0xF4, 0xC7, 0xF8, 0x22, 0x0D, 0x0A,
    ]

    @Test func detectsAndDecodesGBK() throws {
        let path = try ImportFixtures.write(ImportReaderTextTests.gbkBytes)
        let reader = try ImportReader(path: path)
        #expect(reader.encoding == .gb18030)
        #expect(reader.header == ["姓名", "电话"])
        #expect(
            try ImportFixtures.readAll(reader) == [
                .row(["张伟", "13800138000"], line: 2),
                .row(["李娜", "北京市, 朝阳区"], line: 3),
            ])
    }

    @Test func decodesGB18030FourByteSequences() throws {
        // 𠀀 (U+20000) is 95 32 82 36 and 😀 is 94 39 FC 36 in GB18030; 镕 is E9 46 (a GBK trail byte below 0x80).
        let bytes: [UInt8] = Array("name\n".utf8) + [0x95, 0x32, 0x82, 0x36, 0x94, 0x39, 0xFC, 0x36, 0xE9, 0x46, 0x0A]
        for chunkSize in [1, 2, 3, 5, 7, 64 << 10] {
            #expect(
                try ImportFixtures.readAll(path: try ImportFixtures.write(bytes), chunkSize: chunkSize) == [
                    .row(["name"], line: 0), .row(["𠀀😀镕"], line: 2),
                ], "chunk size \(chunkSize)")
        }
    }

    @Test func detectsGBKAfterManyASCIIRows() throws {
        // The first non-ASCII byte comes long after the first chunk: detection waits for it.
        var text = "id,name\n"
        for number in 1...3000 { text += "\(number),user\(number)\n" }
        text += "3001,张伟\n3002,\"欧阳\n娜娜\"\n3003,end\n"
        let path = try ImportFixtures.write(try ImportFixtures.encode(text, as: "GB18030"))
        for chunkSize in [4096, 64 << 10] {
            var configuration = ImportReader.Configuration()
            configuration.chunkSize = chunkSize
            let reader = try ImportReader(path: path, configuration: configuration)
            if chunkSize == 4096 {
                #expect(reader.encoding == .utf8, "undecided while all ASCII")
            }
            let outcomes = try ImportFixtures.readAll(reader)
            #expect(reader.encoding == .gb18030)
            #expect(outcomes.count == 3003)
            #expect(outcomes[3000] == .row(["3001", "张伟"], line: 3002))
            #expect(outcomes[3001] == .row(["3002", "欧阳\n娜娜"], line: 3003))
            #expect(outcomes[3002] == .row(["3003", "end"], line: 3005))
        }
    }

    @Test func parsesQuotedFieldsWithCorrectLineNumbers() throws {
        let text = """
            id,note,city\r
            1,"Hello, world","Berlin"\r
            2,"She said ""hi""\r
            and left",Paris\r
            3,"multi\nline\rbreaks\r\ninside",""\r
            4,plain "quotes" stay,x\r

            """
        let path = try ImportFixtures.write(text)
        #expect(
            try ImportFixtures.readAll(path: path, chunkSize: 64 << 10) == [
                .row(["id", "note", "city"], line: 0),
                .row(["1", "Hello, world", "Berlin"], line: 2),
                .row(["2", "She said \"hi\"\r\nand left", "Paris"], line: 3),
                .row(["3", "multi\nline\rbreaks\r\ninside", ""], line: 5),
                .row(["4", "plain \"quotes\" stay", "x"], line: 9),
            ])
    }

    @Test func handlesLineEndings() throws {
        for ending in ["\n", "\r\n", "\r"] {
            let text = ["a,b", "1,2", "", "3,4"].joined(separator: ending) + ending
            let outcomes = try ImportFixtures.readAll(path: try ImportFixtures.write(text), chunkSize: 3)
            #expect(
                outcomes == [.row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .row(["3", "4"], line: 4)],
                "line ending \(ending.debugDescription)")
        }
    }

    @Test func lastRowWithoutLineBreak() throws {
        let outcomes = try ImportFixtures.readAll(path: try ImportFixtures.write("a,b\n1,2\n3,"), chunkSize: 64)
        #expect(outcomes == [.row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .row(["3", ""], line: 3)])
    }

    @Test func detectsTabAndSemicolonDelimiters() throws {
        let tab = try ImportReader(path: try ImportFixtures.write("name\tcity, country\tphone\nLi\tShanghai, CN\t123\n"))
        #expect(tab.delimiter == "\t")
        #expect(tab.header == ["name", "city, country", "phone"])
        #expect(try tab.next()?.fields == ["Li", "Shanghai, CN", "123"])

        let semicolon = try ImportReader(path: try ImportFixtures.write("\"name, full\";city;amount\nMüller;Köln;\"1,50\"\n"))
        #expect(semicolon.delimiter == ";")
        #expect(semicolon.header == ["name, full", "city", "amount"])
        #expect(try semicolon.next()?.fields == ["Müller", "Köln", "1,50"])

        var configuration = ImportReader.Configuration()
        configuration.delimiter = "|"
        let explicit = try ImportReader(path: try ImportFixtures.write("a|b\n1|2\n"), configuration: configuration)
        #expect(explicit.header == ["a", "b"])
    }

    @Test func reportsRaggedRows() throws {
        let reader = try ImportReader(path: try ImportFixtures.write("a,b,c\n1,2\n1,2,3\n1,2,3,4\n"))
        let rows = try [reader.next(), reader.next(), reader.next()].map { try #require($0) }
        #expect(rows.map(\.isRagged) == [true, false, true])
        #expect(rows.map(\.fields.count) == [2, 3, 4])
        #expect(rows.allSatisfy { $0.expectedFieldCount == 3 })
        #expect(rows[0][2] == nil)
    }

    @Test func skipsBlankRowsUnlessTold() throws {
        let text = "a,b\n\n1,2\n,\n\n3,4\n\n"
        #expect(
            try ImportFixtures.readAll(path: try ImportFixtures.write(text), chunkSize: 64) == [
                .row(["a", "b"], line: 0), .row(["1", "2"], line: 3), .row(["3", "4"], line: 6),
            ])
        var configuration = ImportReader.Configuration()
        configuration.skipsBlankRows = false
        configuration.hasHeaderRow = false
        let reader = try ImportReader(path: try ImportFixtures.write(text), configuration: configuration)
        #expect(reader.header.isEmpty)
        let outcomes = try ImportFixtures.readAll(reader)
        #expect(outcomes.count == 7)
        #expect(outcomes[3] == .row(["", ""], line: 4))
    }

    @Test func chunkBoundariesAnywhereGiveTheSameRows() throws {
        let text = """
            姓名,备注,城市\r
            张伟,"引号""和,逗号","北京"\r
            "李\r
            娜",多字节🙂文本,上海\r
            王芳,,"广州\n深圳"\r
            last,row,没有换行
            """
        let variants: [(String, [UInt8])] = [
            ("UTF-8", Array(text.utf8)),
            ("UTF-8 BOM", [0xEF, 0xBB, 0xBF] + Array(text.utf8)),
            ("GB18030", try ImportFixtures.encode(text, as: "GB18030")),
            ("UTF-16LE BOM", [0xFF, 0xFE] + (try ImportFixtures.encode(text, as: "UTF-16LE"))),
            ("UTF-16BE BOM", [0xFE, 0xFF] + (try ImportFixtures.encode(text, as: "UTF-16BE"))),
        ]
        let expected: [Outcome] = [
            .row(["姓名", "备注", "城市"], line: 0),
            .row(["张伟", "引号\"和,逗号", "北京"], line: 2),
            .row(["李\r\n娜", "多字节🙂文本", "上海"], line: 3),
            .row(["王芳", "", "广州\n深圳"], line: 5),
            .row(["last", "row", "没有换行"], line: 7),
        ]
        for (name, bytes) in variants {
            let path = try ImportFixtures.write(bytes)
            for chunkSize in Array(1...17) + [64, 4096, 64 << 10] {
                #expect(try ImportFixtures.readAll(path: path, chunkSize: chunkSize) == expected, "\(name), chunk \(chunkSize)")
            }
        }
    }

    @Test func detectsWindows1252RatherThanMisreadingItAsGBK() throws {
        // "Müller,Köln" and "café, crème" in Windows-1252: isolated high bytes followed by ASCII.
        let text = "name,city,note\nMüller,Köln,\"café, crème\"\nStraße,Zürich,€ 5\n"
        let path = try ImportFixtures.write(try ImportFixtures.encode(text, as: "CP1252"))
        let reader = try ImportReader(path: path)
        #expect(reader.encoding == .windows1252)
        #expect(
            try ImportFixtures.readAll(reader) == [
                .row(["Müller", "Köln", "café, crème"], line: 2), .row(["Straße", "Zürich", "€ 5"], line: 3),
            ])
    }

    @Test func explicitEncodingSkipsDetection() throws {
        var configuration = ImportReader.Configuration()
        configuration.encoding = .gb18030
        let reader = try ImportReader(path: try ImportFixtures.write([0x61, 0x0A, 0xD5, 0xC5, 0x0A]), configuration: configuration)
        #expect(reader.encoding == .gb18030)
        #expect(try reader.next()?.fields == ["张"])
    }

    @Test func longMultibyteFilesSurviveEveryChunkBoundary() throws {
        // Long enough that detection happens early and the rest is decoded chunk by chunk, so chunk edges fall
        // inside multibyte characters, inside quoted fields and between CR and LF.
        let surnames = ["张", "王", "李", "赵", "欧阳", "司马", "𠀀"]
        var text = "编号,姓名,备注\r\n"
        var expected: [Outcome] = [.row(["编号", "姓名", "备注"], line: 0)]
        var line = 2
        for number in 1...150 {
            let name = surnames[number % surnames.count] + "伟"
            if number % 3 == 0 {
                text += "\(number),\(name),\"第一行\r\n第二行, \"\"引用\"\"\"\r\n"
                expected.append(.row(["\(number)", name, "第一行\r\n第二行, \"引用\""], line: line))
                line += 2
            } else {
                text += "\(number),\(name),备注\(number)\r\n"
                expected.append(.row(["\(number)", name, "备注\(number)"], line: line))
                line += 1
            }
        }
        let variants: [(String, [UInt8], ImportTextEncoding)] = [
            ("UTF-8", Array(text.utf8), .utf8),
            ("GB18030", try ImportFixtures.encode(text, as: "GB18030"), .gb18030),
            ("UTF-16LE BOM", [0xFF, 0xFE] + (try ImportFixtures.encode(text, as: "UTF-16LE")), .utf16LittleEndian),
        ]
        for (name, bytes, encoding) in variants {
            #expect(bytes.count > 4 * ImportTextDecoderWindow.size)
            let path = try ImportFixtures.write(bytes)
            for chunkSize in [1, 2, 3, 5, 7, 11, 13, 1000, 4096] {
                var configuration = ImportReader.Configuration()
                configuration.chunkSize = chunkSize
                let reader = try ImportReader(path: path, configuration: configuration)
                let outcomes = [.row(reader.header, line: 0)] + (try ImportFixtures.readAll(reader))
                #expect(reader.encoding == encoding, "\(name), chunk \(chunkSize)")
                #expect(outcomes == expected, "\(name), chunk \(chunkSize)")
            }
        }
    }

    @Test func detectsUTF16WithoutByteOrderMark() throws {
        let path = try ImportFixtures.write(try ImportFixtures.encode("name,city\nZhang,北京\n", as: "UTF-16LE"))
        let reader = try ImportReader(path: path)
        #expect(reader.encoding == .utf16LittleEndian)
        #expect(reader.header == ["name", "city"])
        #expect(try reader.next()?.fields == ["Zhang", "北京"])
    }

    @Test func invalidUTF8IsARowErrorWithByteOffset() throws {
        // Row 3 holds a lone continuation byte at file offset 19 ("a,b\n1,ok\n2,caf" is 14 bytes, ...).
        let prefix = Array("name,city\n1,Zürich\n2,ba".utf8)
        let bytes = prefix + [0x80] + Array("d\n3,Köln\n".utf8)
        let path = try ImportFixtures.write(bytes)
        for chunkSize in [1, 4, 64 << 10] {
            #expect(
                try ImportFixtures.readAll(path: path, chunkSize: chunkSize) == [
                    .row(["name", "city"], line: 0),
                    .row(["1", "Zürich"], line: 2),
                    .error(.badEncoding, line: 3, byteOffset: Int64(prefix.count)),
                    .row(["3", "Köln"], line: 4),
                ], "chunk \(chunkSize)")
        }
    }

    @Test func invalidGB18030IsARowError() throws {
        // After GBK text, 0xFF is never valid in GB18030.
        let bytes = ImportReaderTextTests.gbkBytes + [0x31, 0x2C, 0xFF, 0x0D, 0x0A, 0x32, 0x2C, 0xD5, 0xC5, 0x0A]
        let reader = try ImportReader(path: try ImportFixtures.write(bytes))
        let outcomes = try ImportFixtures.readAll(reader)
        #expect(outcomes.count == 4)
        #expect(outcomes[2] == .error(.badEncoding, line: 4, byteOffset: Int64(ImportReaderTextTests.gbkBytes.count + 2)))
        #expect(outcomes[3] == .row(["2", "张"], line: 5))
    }

    @Test func badRowErrorCarriesDecodedFields() throws {
        // The UTF-8 header decides the encoding; a lone lead byte in the next row is then an error.
        let path = try ImportFixtures.write(Array("姓名,城市\nx,".utf8) + [0xC3] + Array(",y\n".utf8))
        let reader = try ImportReader(path: path)
        let error = try #require(throws: ImportError.self) { try reader.next() }
        #expect(error.code == .badEncoding)
        #expect(error.isRowError)
        #expect(error.fields == ["x", "\u{FFFD}", "y"])
        #expect(error.lineNumber == 2)
        #expect(error.byteOffset == 16)
        #expect(error.description == "ImportError(badEncoding, line 2, byte 16)")
        #expect(!error.description.contains("x"))
    }

    @Test func unterminatedQuoteIsAMalformedRow() throws {
        let path = try ImportFixtures.write("a,b\n1,2\n3,\"never closed\n4,5\n")
        #expect(
            try ImportFixtures.readAll(path: path, chunkSize: 5) == [
                .row(["a", "b"], line: 0), .row(["1", "2"], line: 2), .error(.malformedRow, line: 3, byteOffset: nil),
                .row(["4", "5"], line: 4),
            ])
    }

    @Test func oversizedRowIsAMalformedRowAndReadingGoesOn() throws {
        var configuration = ImportReader.Configuration()
        configuration.maximumRowBytes = 64
        configuration.chunkSize = 16
        let long = String(repeating: "x", count: 500)
        let path = try ImportFixtures.write("a,b\n1,\"\(long)\n\(long)\"\n2,ok\n")
        let reader = try ImportReader(path: path, configuration: configuration)
        // Line 2 opens a quote that spans lines and grows too large: line 2 is refused, then line 3 (too
        // large on its own).
        #expect(
            try ImportFixtures.readAll(reader) == [
                .error(.malformedRow, line: 2, byteOffset: nil), .error(.malformedRow, line: 3, byteOffset: nil),
                .row(["2", "ok"], line: 4),
            ])
    }

    @Test func arbitraryBytesNeverCrash() throws {
        // A fixed-seed generator over bytes that matter to the parser and the decoders.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextRandom() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet: [UInt8] = Array("ab,;\t\"\r\n ".utf8) + [0xE4, 0xB8, 0xAD, 0xD5, 0xC5, 0x80, 0xFF, 0x30, 0x95, 0x00, 0xEF, 0xBB, 0xBF]
        for round in 0..<60 {
            let length = nextRandom() % 3000
            let bytes = (0..<length).map { _ in alphabet[nextRandom() % alphabet.count] }
            var configuration = ImportReader.Configuration()
            configuration.chunkSize = 1 + nextRandom() % 97
            configuration.maximumRowBytes = 64 + nextRandom() % 512
            let path = try ImportFixtures.write(bytes)
            do {
                let reader = try ImportReader(path: path, configuration: configuration)
                let outcomes = try ImportFixtures.readAll(reader)
                #expect(outcomes.count <= length + 1, "round \(round)")
                #expect(reader.bytesConsumed == reader.totalBytes, "round \(round)")
            } catch let error as ImportError {
                #expect(error.code == .unsupportedFormat || error.isRowError, "round \(round): \(String(reflecting: error))")
            }
        }
    }

    @Test func emptyFileHasNoHeaderAndNoRows() throws {
        let reader = try ImportReader(path: try ImportFixtures.write(""))
        #expect(reader.header.isEmpty)
        #expect(try reader.next() == nil)
        #expect(reader.fractionCompleted == 1)
    }

    @Test func unreadableAndUnsupportedFiles() throws {
        let missing = #expect(throws: ImportError.self) { try ImportReader(path: "/nonexistent/rapport/leads.csv") }
        #expect(missing?.code == .unreadableFile)
        let directory = try ImportFixtures.makeDirectory()
        let notAFile = #expect(throws: ImportError.self) { try ImportReader(path: directory.path) }
        #expect(notAFile?.code == .unreadableFile)

        let binary = try ImportFixtures.write([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00])
        let binaryError = #expect(throws: ImportError.self) { try ImportReader(path: binary) }
        #expect(binaryError?.code == .unsupportedFormat)

        let legacy = try ImportFixtures.write([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0], name: "old.xls")
        let legacyError = #expect(throws: ImportError.self) { try ImportReader(path: legacy) }
        #expect(legacyError?.code == .unsupportedFormat)

        let fakeWorkbook = try ImportFixtures.write("a,b\n1,2\n", name: "leads.xlsx")
        let fakeError = #expect(throws: ImportError.self) { try ImportReader(path: fakeWorkbook) }
        #expect(fakeError?.code == .unsupportedFormat)
    }

    @Test func progressAdvancesChunkByChunk() throws {
        var text = "id,value\n"
        for number in 0..<2000 { text += "\(number),\(number * 7)\n" }
        let path = try ImportFixtures.write(text)
        var configuration = ImportReader.Configuration()
        configuration.chunkSize = 1024
        let reader = try ImportReader(path: path, configuration: configuration)
        #expect(reader.totalBytes == Int64(text.utf8.count))
        var seen: [Int64] = []
        while try reader.next() != nil {
            seen.append(reader.bytesConsumed)
        }
        #expect(seen.count == 2000)
        #expect(seen == seen.sorted())
        #expect(seen.first! < reader.totalBytes)
        #expect(seen.last! == reader.totalBytes)
    }
}
