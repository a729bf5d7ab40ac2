import Foundation
import RapportSupport
import Testing

/// The one ISO 8601 parser, under each caller's rules.
struct ISO8601Tests {
    @Test(arguments: [
        ("2026-11-25T09:30:00+08:00", 1_795_570_200.0),
        ("2026-11-25t01:30:00z", 1_795_570_200.0),
        ("2026-11-25 01:30:00Z", 1_795_570_200.0),
        ("2026-11-25T01:30Z", 1_795_570_200.0),
        ("2026-11-25T09:30:00.5+0800", 1_795_570_200.5),
        ("2026-11-25T09:30:00,25+08", 1_795_570_200.25),
        (" 2026-11-24T20:30:00-05:00 ", 1_795_570_200.0),
    ])
    func rfc3339Accepts(text: String, epoch: Double) {
        #expect(ISO8601.date(text)?.timeIntervalSince1970 == epoch, "\(text)")
    }

    @Test(arguments: ["2026-11-25T09:30:00", "2026-11-25", "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T09:60:00Z",
                      "2026-11-25T09:30:00+8", "2026-11-25T09:30:00+24:00", "2026-11-25T09:30:00.Z", "12026-11-25T09:30:00Z",
                      "2026-11-25T09:30:00Z BC", "yesterday", ""])
    func rfc3339Refuses(text: String) {
        #expect(ISO8601.date(text) == nil, "\(text)")
    }

    @Test func postgresRulesAcceptWhatTheServerWrites() throws {
        #expect(ISO8601.date("2026-11-25", rules: .postgres)?.timeIntervalSince1970 == 1_795_564_800)
        #expect(ISO8601.date("2026-11-25 11:54:40+05:30:15", rules: .postgres) != nil)
        #expect(ISO8601.date("0044-03-15 12:00:00+00 BC", rules: .postgres) != nil)
        #expect(ISO8601.date("2026-11-25 24:00:00+00", rules: .postgres) == ISO8601.date("2026-11-26T00:00:00Z"))
        // A command and a web form now agree: what one accepts, the other does.
        #expect(ISO8601.date("2026-11-25 09:30:00+08:00") == ISO8601.date("2026-11-25T01:30:00Z"))
    }

    @Test func zoneOptionalSaysWhetherAZoneWasGiven() throws {
        let p = try #require(ISO8601.parse("2026-11-25T09:30:00", rules: .zoneOptional))
        #expect(!p.hasZone && p.hasTime && p.offsetSeconds == 0)
        #expect(ISO8601.parse("2026-11-25T09:30:00+08:00", rules: .zoneOptional)?.offsetSeconds == 28_800)
    }

    @Test func formatsWithMillisecondsInUTC() {
        #expect(ISO8601.string(Date(timeIntervalSince1970: 1_795_570_200.25)) == "2026-11-25T01:30:00.250Z")
    }
}
