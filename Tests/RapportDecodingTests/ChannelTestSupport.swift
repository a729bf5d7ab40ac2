import RapportDecoding
import Foundation
import RapportCore
import RapportSupport

/// Paths and builders shared by the channel tests.
enum ChannelFixtures {
    /// The repository root (`/work/main`), found from this file even when the test file is a symlink.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .resolvingSymlinksInPath()
        .deletingLastPathComponent()  // ConnectorsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `connectors/` in the repository.
    static let connectorsDirectory = Self.repositoryRoot.appendingPathComponent("connectors")

    /// The shared data folder next to the repository (`/work/shared/data`).
    static let sharedData = Self.repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared").appendingPathComponent("data")

    static let crmDedupeRecords = Self.sharedData.appendingPathComponent("crm-dedupe-dev/records.csv")
    static let febrlRecords = Self.sharedData.appendingPathComponent("febrl-dev/febrl1.csv")

    /// Test fixtures beside these tests.
    static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Loads `Fixtures/<name>` as a mapping.
    static func fixtureMapping(_ name: String) throws -> ChannelMapping {
        try ChannelMapping(contentsOfFile: Self.fixturesDirectory.appendingPathComponent(name).path)
    }

    /// Loads `connectors/<relativePath>` as a mapping.
    static func mapping(_ relativePath: String) throws -> ChannelMapping {
        try ChannelMapping(contentsOfFile: Self.connectorsDirectory.appendingPathComponent(relativePath).path)
    }

    /// Parses a mapping written inline in a test.
    static func mapping(json: String) throws -> ChannelMapping {
        try ChannelMapping(bytes: Array(json.utf8))
    }

    /// The bytes of `connectors/<relativePath>`.
    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.connectorsDirectory.appendingPathComponent(relativePath)))
    }

    /// A delivery that passes every envelope-level check; tests override one thing at a time.
    static func envelope(
        _ body: [UInt8],
        routingKey: String = "inbound.webform.site-a",
        messageID: String? = "msg-1",
        appID: String? = nil,
        contentType: String? = "application/json"
    ) -> InboundEnvelope {
        InboundEnvelope(
            exchange: "rapport.inbound", routingKey: routingKey, messageID: messageID, appID: appID,
            contentType: contentType, timestamp: nil, body: body)
    }

    static func envelope(
        _ body: String,
        routingKey: String = "inbound.webform.site-a",
        messageID: String? = "msg-1",
        appID: String? = nil,
        contentType: String? = "application/json"
    ) -> InboundEnvelope {
        Self.envelope(Array(body.utf8), routingKey: routingKey, messageID: messageID, appID: appID, contentType: contentType)
    }

    static func rejection<Value>(_ result: Result<Value, InboundRejection>) -> InboundRejection? {
        if case .failure(let rejection) = result { return rejection }
        return nil
    }

    /// One CSV record and the line it starts on.
    struct CSVRecord: Sendable {
        var line: Int
        var cells: [String]
    }

    /// Splits UTF-8 CSV text into records, for tests only: commas, double-quoted cells with `""` and line
    /// breaks, LF or CRLF, blank lines skipped. Import files proper are read by the `Import` module's reader.
    static func csvRecords(_ text: String) -> [CSVRecord] {
        let characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        var records: [CSVRecord] = []
        var cells: [String] = []
        var cell = ""
        var line = 1
        var start = 1
        var index = 0
        func endRecord() {
            cells.append(cell)
            if cells != [""] { records.append(CSVRecord(line: start, cells: cells)) }
            (cells, cell) = ([], "")
        }
        while index < characters.count {
            let character = characters[index]
            index += 1
            if character == "\"", cell.isEmpty {
                // Quoted cell: up to the next quote that is not doubled.
                while index < characters.count {
                    let inner = characters[index]
                    index += 1
                    if inner == "\"" {
                        guard index < characters.count, characters[index] == "\"" else { break }
                        index += 1
                    }
                    if inner == "\n" { line += 1 }
                    cell.append(inner)
                }
            } else if character == "," {
                cells.append(cell)
                cell = ""
            } else if character == "\n" {
                endRecord()
                line += 1
                start = line
            } else {
                cell.append(character)
            }
        }
        if !cell.isEmpty || !cells.isEmpty { endRecord() }
        return records
    }

    /// The header and the first `limit` data records of a CSV file, or `nil` when the file is absent.
    static func csv(_ url: URL, limit: Int) throws -> (header: [String], rows: [CSVRecord])? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let records = Self.csvRecords(try String(contentsOf: url, encoding: .utf8))
        guard let header = records.first else { return nil }
        return (header.cells, Array(records.dropFirst().prefix(limit)))
    }

    /// A JSON body with the object's members, for building test payloads from parts.
    static func json(_ value: JSONValue) -> [UInt8] {
        Array(value.jsonString.utf8)
    }

    /// `Date` from an RFC 3339 UTC text, for readable expectations.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)!
    }
}
