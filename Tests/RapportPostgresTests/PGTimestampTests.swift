import Foundation
import RapportPostgres
import Testing

/// `timestamptz` text as PostgreSQL writes it, parsed without a server.
struct PGTimestampTests {
    @Test
    func dateTextParsing() throws {
        let cases: [(String, String)] = [
            ("2026-11-25 11:54:40.123456+00", "2026-11-25T11:54:40.123456Z"),
            ("2026-11-25 11:54:40+00", "2026-11-25T11:54:40.000000Z"),
            ("2026-11-25 11:54:40+05:30", "2026-11-25T06:24:40.000000Z"),
            ("2026-11-25 11:54:40-03:30", "2026-11-25T15:24:40.000000Z"),
            ("2026-11-25T11:54:40.1Z", "2026-11-25T11:54:40.100000Z"),
            ("2026-11-25T11:54:40.123456Z", "2026-11-25T11:54:40.123456Z"),
            ("2024-02-29 00:00:00+0100", "2024-02-28T23:00:00.000000Z"),
            ("12026-01-01 00:00:00+00", "12026-01-01T00:00:00.000000Z"),
        ]
        for (text, expected) in cases {
            #expect(try Date(pgText: text).pgText == expected, "\(text)")
        }
        for text in ["", "yesterday", "2026-13-01 00:00:00+00", "2026-11-25 11:5", "2026-11-25 11:54:40+5", "2026-11-25 11:54:40+05 AD", "2026-11-25x"] {
            #expect(throws: PGError.self, "\(text)") { try Date(pgText: text) }
        }
    }
}
