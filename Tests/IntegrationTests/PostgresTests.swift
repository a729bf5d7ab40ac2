import Dispatch
import Foundation
import RapportPostgres
import Synchronization
import Testing

/// Live-database tests for `RapportPostgres`.
///
/// Set `RAPPORT_PG_URL` (for example `postgresql://rapport:rapport@127.0.0.1:5432/rapport_test`)
/// to run them; the role must be allowed to create schemas and databases. Each test works in
/// its own uniquely named schema, or its own database, so the tests run in parallel with each
/// other and with other suites.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RAPPORT_PG_URL"] != nil, "set RAPPORT_PG_URL to run database tests"))
struct PostgresTests {
    // MARK: - Encoding and decoding

    @Test(.timeLimit(.minutes(3)))
    func stringRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        for value in PGTestDatabase.trickyStrings + ["", "plain", "line\nbreak\ttab", "emoji 🎉 é"] {
            #expect(try PGTestDatabase.roundTrip(connection, value, cast: "text") == value)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func integerRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        for value in [0, 1, -1, Int.max, Int.min] {
            #expect(try PGTestDatabase.roundTrip(connection, value, cast: "int8") == value)
        }
        for value in [Int32.max, Int32.min, 0, -7] {
            #expect(try PGTestDatabase.roundTrip(connection, value, cast: "int4") == value)
        }
        for value in [Int64.max, Int64.min, 42] {
            #expect(try PGTestDatabase.roundTrip(connection, value, cast: "int8") == value)
        }
        // smallint output decodes as Int32.
        let row = try #require(try connection.query("SELECT 12::int2 AS v").first)
        #expect(try row.decode("v", as: Int32.self) == 12)
    }

    @Test(.timeLimit(.minutes(3)))
    func doubleRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let values: [Double] = [
            0, -0.0, 0.1, 1.5, -2.25, 1e-300, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi,
            123_456_789.123_456_789, .infinity, -.infinity,
        ]
        for value in values {
            let decoded = try PGTestDatabase.roundTrip(connection, value, cast: "float8")
            #expect(decoded.bitPattern == value.bitPattern, "\(value) came back as \(decoded)")
        }
        #expect(try PGTestDatabase.roundTrip(connection, Double.nan, cast: "float8").isNaN)
        let row = try #require(try connection.query("SELECT 12.50::numeric AS v").first)
        #expect(try row.decode("v", as: Double.self) == 12.5)
    }

    @Test(.timeLimit(.minutes(3)))
    func boolAndUUIDRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        #expect(try PGTestDatabase.roundTrip(connection, true, cast: "bool") == true)
        #expect(try PGTestDatabase.roundTrip(connection, false, cast: "bool") == false)
        let id = UUID()
        #expect(try PGTestDatabase.roundTrip(connection, id, cast: "uuid") == id)
        #expect(id.pgText == id.uuidString.lowercased())
        let row = try #require(try connection.query("SELECT $1::uuid::text AS v", [id]).first)
        #expect(row["v"] == id.uuidString.lowercased())
    }

    @Test(.timeLimit(.minutes(3)))
    func dateRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let dates = [
            Date(timeIntervalSince1970: 1_795_607_680.123_456),  // 2026-11-25T11:54:40.123456Z
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: -1.5),
            Date(timeIntervalSince1970: 951_782_400.999_999),  // 2000-02-29
            Date(timeIntervalSince1970: -2_208_988_800.000_001),  // just before 1900
            Date(timeIntervalSince1970: 253_402_300_799.999_999),  // 9999-12-31T23:59:59.999999Z
            Date.distantPast,
            Date.distantFuture,
        ]
        #expect(dates[0].pgText == "2026-11-25T11:54:40.123456Z")
        for timeZone in ["UTC", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam"] {
            try connection.execute("SET TIME ZONE '\(timeZone)'")
            for date in dates {
                let decoded = try PGTestDatabase.roundTrip(connection, date, cast: "timestamptz")
                #expect(decoded.pgText == date.pgText, "\(timeZone): \(date.pgText) came back as \(decoded.pgText)")
                #expect(abs(decoded.timeIntervalSince(date)) < 0.000_001)
            }
            // The server reads the same instant we meant.
            let row = try #require(
                try connection.query("SELECT extract(epoch FROM $1::timestamptz)::float8 AS epoch", [dates[0]]).first
            )
            #expect(abs(try row.decode("epoch", as: Double.self) - dates[0].timeIntervalSince1970) < 0.000_001)
        }
        // Offsets with minutes and seconds, as the server prints them.
        try connection.execute("SET TIME ZONE 'Asia/Kolkata'")
        var row = try #require(try connection.query("SELECT '2026-11-25 11:54:40.5+00'::timestamptz AS v").first)
        #expect(row["v"] == "2026-11-25 17:24:40.5+05:30")
        #expect(try row.decode("v", as: Date.self).pgText == "2026-11-25T11:54:40.500000Z")
        try connection.execute("SET TIME ZONE 'Europe/Amsterdam'")
        row = try #require(try connection.query("SELECT '1900-06-01 12:00:00+00'::timestamptz AS v").first)
        #expect(row["v"] == "1900-06-01 12:19:32+00:19:32")
        #expect(try row.decode("v", as: Date.self).pgText == "1900-06-01T12:00:00.000000Z")
        // BC dates, infinity, timestamp without time zone and date.
        try connection.execute("SET TIME ZONE 'UTC'")
        row = try #require(
            try connection.query(
                """
                SELECT '0044-03-15 12:00:00+00 BC'::timestamptz AS bc, 'infinity'::timestamptz AS inf,
                       '-infinity'::timestamptz AS ninf, '2026-11-25 11:54:40.25'::timestamp AS naive,
                       '2026-11-25'::date AS day
                """
            ).first
        )
        let bc = try row.decode("bc", as: Date.self)
        #expect(bc.pgText == "0044-03-15T12:00:00.000000Z BC")
        #expect(try PGTestDatabase.roundTrip(connection, bc, cast: "timestamptz") == bc)
        #expect(try row.decode("inf", as: Date.self) == .distantFuture)
        #expect(try row.decode("ninf", as: Date.self) == .distantPast)
        #expect(try row.decode("naive", as: Date.self).pgText == "2026-11-25T11:54:40.250000Z")
        #expect(try row.decode("day", as: Date.self).pgText == "2026-11-25T00:00:00.000000Z")
    }

    @Test(.timeLimit(.minutes(3)))
    func byteaRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let allBytes = (0...255).map { UInt8($0) }
        #expect([UInt8]([0x0A, 0x1B]).pgText == "\\x0a1b")
        #expect(try PGTestDatabase.roundTrip(connection, allBytes, cast: "bytea") == allBytes)
        #expect(try PGTestDatabase.roundTrip(connection, [UInt8](), cast: "bytea") == [])
        let data = Data("hello\0world\\".utf8)
        #expect(try PGTestDatabase.roundTrip(connection, data, cast: "bytea") == data)
        let row = try #require(
            try connection.query("SELECT length($1::bytea) AS n, $1::bytea = '\\x00ff'::bytea AS same", [Data([0, 255])]).first
        )
        #expect(row["n"] == "2")
        #expect(try row.decode("same", as: Bool.self))
        // The older escape output format decodes too.
        try connection.execute("SET bytea_output = escape")
        #expect(try PGTestDatabase.roundTrip(connection, allBytes, cast: "bytea") == allBytes)
    }

    @Test(.timeLimit(.minutes(3)))
    func textArrayRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let values = PGTestDatabase.trickyStrings
        #expect(try PGTestDatabase.roundTrip(connection, values, cast: "text[]") == values)
        #expect(try PGTestDatabase.roundTrip(connection, [String](), cast: "text[]") == [])
        #expect(try PGTestDatabase.roundTrip(connection, [""], cast: "text[]") == [""])
        // The server sees exactly the elements we sent, not just something that parses back.
        for (index, value) in values.enumerated() {
            let row = try #require(
                try connection.query(
                    "SELECT ($1::text[])[$2::int] AS element, array_length($1::text[], 1) AS n",
                    [values, index + 1]
                ).first
            )
            #expect(row["element"] == value)
            #expect(row["n"] == String(values.count))
        }
        // Unquoted server output, a NULL element and bounds decoration.
        var row = try #require(
            try connection.query(
                """
                SELECT ARRAY['abc', 'NULL', 'x y', '', ' pad ']::text[] AS words,
                       ARRAY['a', NULL]::text[] AS with_null,
                       '[0:1]={a,b}'::text[] AS shifted,
                       '{{a,b},{c,d}}'::text[] AS matrix
                """
            ).first
        )
        #expect(try row.decode("words", as: [String].self) == ["abc", "NULL", "x y", "", " pad "])
        #expect(try row.decode("shifted", as: [String].self) == ["a", "b"])
        let nullError = #expect(throws: PGError.self) { try row.decode("with_null", as: [String].self) }
        #expect(nullError?.code == .decode)
        #expect(throws: PGError.self) { try row.decode("matrix", as: [String].self) }
        // The element NULL as a string stays a string.
        row = try #require(try connection.query("SELECT ($1::text[])[1] IS NULL AS is_null", [["NULL"]]).first)
        #expect(try row.decode("is_null", as: Bool.self) == false)
    }

    @Test(.timeLimit(.minutes(3)))
    func numericArrayRoundTrip() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let values: [Int64] = [1, -2, .max, .min, 0]
        #expect(values.pgText == #"{"1","-2","9223372036854775807","-9223372036854775808","0"}"#)
        #expect(try PGTestDatabase.roundTrip(connection, values, cast: "int8[]") == values)
        #expect(try PGTestDatabase.roundTrip(connection, [Int64](), cast: "int8[]") == [])
        let row = try #require(try connection.query("SELECT 3::int8 = ANY($1::int8[]) AS hit", [[Int64(1), 3]]).first)
        #expect(try row.decode("hit", as: Bool.self))
        let ids = [UUID(), UUID()]
        #expect(try PGTestDatabase.roundTrip(connection, ids, cast: "uuid[]") == ids)
        #expect(try PGTestDatabase.roundTrip(connection, [1.5, -0.25], cast: "float8[]") == [1.5, -0.25])
        #expect(try PGTestDatabase.roundTrip(connection, [true, false], cast: "bool[]") == [true, false])
    }

    @Test(.timeLimit(.minutes(3)))
    func nullHandling() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let result = try connection.query("SELECT $1::text AS v, $2::int8 AS n, 'abc' AS word", [nil, Int64(5)])
        let row = try #require(result.first)
        #expect(row["v"] == nil)
        #expect(row[0] == nil)
        #expect(row[1] == "5")
        #expect(row[7] == nil)
        #expect(row["missing"] == nil)
        #expect(try row.decodeIfPresent("v", as: String.self) == nil)
        #expect(try row.decodeIfPresent("n", as: Int64.self) == 5)

        let nullError = #expect(throws: PGError.self) { try row.decode("v", as: String.self) }
        #expect(nullError?.code == .decode)
        #expect(nullError?.message.contains("\"v\"") == true)
        let missingError = #expect(throws: PGError.self) { try row.decode("missing", as: String.self) }
        #expect(missingError?.code == .decode)
        #expect(missingError?.message.contains("\"missing\"") == true)
        let badError = #expect(throws: PGError.self) { try row.decode("word", as: Int.self) }
        #expect(badError?.code == .decode)
        #expect(badError?.message.contains("\"word\"") == true)

        // A nil Optional of any encodable type is NULL too.
        let missingName: String? = nil
        let typed = try #require(try connection.query("SELECT $1::text IS NULL AS is_null", [missingName]).first)
        #expect(try typed.decode("is_null", as: Bool.self))
    }

    @Test(.timeLimit(.minutes(3)))
    func resultShape() throws {
        try PGTestDatabase.withSchema { connection throws in
            try connection.execute("CREATE TABLE items (id int PRIMARY KEY, label text)")
            let insert = try connection.query(
                "INSERT INTO items (id, label) SELECT g, 'item ' || g FROM generate_series(1, $1::int) AS g",
                [3]
            )
            #expect(insert.affectedRows == 3)
            #expect(insert.isEmpty)
            #expect(try connection.query("UPDATE items SET label = $1 WHERE id > 1", ["x"]).affectedRows == 2)

            let result = try connection.query("SELECT id, label FROM items ORDER BY id")
            #expect(result.columns == ["id", "label"])
            #expect(result.count == 3)
            #expect(result.affectedRows == 3)
            #expect(result[0]["label"] == "item 1")
            #expect(try result.map { try $0.decode("id", as: Int.self) } == [1, 2, 3])
            #expect(try connection.query("DELETE FROM items").affectedRows == 3)
            #expect(try connection.query("CREATE INDEX ON items (label)").affectedRows == 0)
        }
    }

    // MARK: - Errors

    @Test(.timeLimit(.minutes(3)))
    func uniqueViolationCarriesSQLState() throws {
        try PGTestDatabase.withSchema { connection throws in
            try connection.execute("CREATE TABLE users (email text UNIQUE)")
            try connection.query("INSERT INTO users VALUES ($1)", ["secret@example.com"])
            let error = #expect(throws: PGError.self) {
                try connection.query("INSERT INTO users VALUES ($1)", ["secret@example.com"])
            }
            #expect(error?.code == .query)
            #expect(error?.sqlState == "23505")
            #expect(error?.isTransient == false)
            #expect(error?.detail?.contains("secret@example.com") == true)
            // The plain description never shows data; the debug description has everything.
            #expect(error.map { "\($0)" } == "PGError(query, sqlstate: 23505)")
            #expect(error.map { String(reflecting: $0) }?.contains("secret@example.com") == true)
            // The connection is still usable.
            #expect(try connection.query("SELECT count(*) AS n FROM users").first?["n"] == "1")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func syntaxErrorCarriesSQLState() throws {
        let connection = try PGTestDatabase.connect()
        defer { connection.close() }
        let queryError = #expect(throws: PGError.self) { try connection.query("SELEC 1") }
        #expect(queryError?.code == .query)
        #expect(queryError?.sqlState == "42601")
        #expect(queryError?.isTransient == false)
        #expect(queryError?.message.contains("syntax error") == true)
        let executeError = #expect(throws: PGError.self) { try connection.execute("SELECT 1; SELEC 2") }
        #expect(executeError?.sqlState == "42601")
        #expect(connection.isConnected)
    }

    @Test(.timeLimit(.minutes(3)))
    func badPasswordIsConnectionError() throws {
        let url = try PGTestDatabase.conninfo(replacing: "password", with: "definitely-wrong")
        let error = #expect(throws: PGError.self) { try PGConnection(url) }
        #expect(error?.code == .connection)
        #expect(error?.isTransient == true)
        #expect(error?.message.isEmpty == false)
        #expect(error.map { "\($0)" } == "PGError(connection)")
    }

    @Test(.timeLimit(.minutes(3)))
    func unreachableServerIsConnectionError() throws {
        let error = #expect(throws: PGError.self) {
            try PGConnection("host=127.0.0.1 port=1 user=nobody dbname=nothing connect_timeout=2")
        }
        #expect(error?.code == .connection)
    }

    @Test(.timeLimit(.minutes(3)))
    func deadConnectionIsTransientAndResets() throws {
        let victim = try PGTestDatabase.connect()
        defer { victim.close() }
        let killer = try PGTestDatabase.connect()
        defer { killer.close() }
        let pid = try #require(try victim.query("SELECT pg_backend_pid() AS pid").first).decode("pid", as: Int32.self)
        let killed = try #require(try killer.query("SELECT pg_terminate_backend($1, 5000) AS ok", [pid]).first)
        #expect(try killed.decode("ok", as: Bool.self))

        let error = #expect(throws: PGError.self) { try victim.query("SELECT 1") }
        #expect(error?.isTransient == true)
        #expect(victim.isConnected == false)

        try victim.reset()
        #expect(victim.isConnected)
        #expect(try victim.query("SELECT 1 AS one").first?["one"] == "1")
    }

    @Test(.timeLimit(.minutes(3)))
    func closeIsIdempotent() throws {
        let connection = try PGTestDatabase.connect()
        #expect(connection.isConnected)
        #expect(connection.serverVersion >= 150_000)
        connection.close()
        connection.close()
        #expect(connection.isConnected == false)
        #expect(connection.serverVersion == 0)
        let error = #expect(throws: PGError.self) { try connection.query("SELECT 1") }
        #expect(error?.code == .connection)
        #expect(throws: PGError.self) { try connection.reset() }
    }

    @Test(.timeLimit(.minutes(3)))
    func executeRunsSeveralStatementsQuietly() throws {
        try PGTestDatabase.withSchema { connection throws in
            // NOTICEs go to the no-op notice processor, not stderr.
            try connection.execute(
                """
                CREATE TABLE a (x int);
                INSERT INTO a VALUES (1), (2);
                DO $$ BEGIN RAISE NOTICE 'noise'; END $$;
                DROP TABLE IF EXISTS does_not_exist;
                """
            )
            #expect(try connection.query("SELECT sum(x) AS s FROM a").first?["s"] == "3")
            try connection.execute("")
        }
    }

    // MARK: - Transactions

    @Test(.timeLimit(.minutes(3)))
    func transactionCommits() throws {
        try PGTestDatabase.withSchema { connection throws in
            try connection.execute("CREATE TABLE t (x int)")
            let value = try connection.transaction {
                try connection.query("INSERT INTO t VALUES (1)")
                try connection.query("INSERT INTO t VALUES (2)")
                return 42
            }
            #expect(value == 42)
            #expect(try connection.query("SELECT count(*) AS n FROM t").first?["n"] == "2")
            // Nothing is left open.
            let other = try PGTestDatabase.connect()
            defer { other.close() }
            let schema = try #require(try connection.query("SELECT current_schema() AS s").first?["s"])
            #expect(try other.query("SELECT count(*) AS n FROM \(schema).t").first?["n"] == "2")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func transactionRollsBackOnThrow() throws {
        struct Boom: Error {}
        try PGTestDatabase.withSchema { connection throws in
            try connection.execute("CREATE TABLE t (x int UNIQUE)")
            #expect(throws: Boom.self) {
                try connection.transaction {
                    try connection.query("INSERT INTO t VALUES (1)")
                    throw Boom()
                }
            }
            #expect(try connection.query("SELECT count(*) AS n FROM t").first?["n"] == "0")

            // A failing statement rethrows its own error and rolls back.
            let error = #expect(throws: PGError.self) {
                try connection.transaction {
                    try connection.query("INSERT INTO t VALUES (1)")
                    try connection.query("INSERT INTO t VALUES (1)")
                }
            }
            #expect(error?.sqlState == "23505")
            #expect(try connection.query("SELECT count(*) AS n FROM t").first?["n"] == "0")

            // A swallowed failure cannot silently turn COMMIT into ROLLBACK.
            let aborted = #expect(throws: PGError.self) {
                try connection.transaction {
                    try connection.query("INSERT INTO t VALUES (2)")
                    _ = try? connection.query("INSERT INTO t VALUES (2)")
                }
            }
            #expect(aborted?.sqlState == "25P02")
            #expect(try connection.query("SELECT count(*) AS n FROM t").first?["n"] == "0")

            // Nested transactions use savepoints.
            try connection.transaction {
                try connection.query("INSERT INTO t VALUES (10)")
                #expect(throws: Boom.self) {
                    try connection.transaction {
                        try connection.query("INSERT INTO t VALUES (11)")
                        throw Boom()
                    }
                }
                try connection.transaction {
                    try connection.query("INSERT INTO t VALUES (12)")
                }
            }
            let rows = try connection.query("SELECT x FROM t ORDER BY x")
            #expect(try rows.map { try $0.decode("x", as: Int.self) } == [10, 12])
        }
    }

    // MARK: - Migrations

    @Test(.timeLimit(.minutes(3)))
    func migratorAppliesOnceAndRecordsRows() throws {
        try PGTestDatabase.withFreshDatabase { url throws in
            let connection = try PGConnection(url)
            defer { connection.close() }
            let migrator = Migrator(migrations: PGTestDatabase.sampleMigrations.reversed())

            let before = try migrator.status(connection)
            #expect(before.map(\.migration.version) == [1, 2, 3])
            #expect(before.allSatisfy { $0.appliedAt == nil })

            let start = Date()
            let applied = try migrator.migrate(connection)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(try migrator.migrate(connection).isEmpty)

            let rows = try connection.query(
                "SELECT version, name, checksum, applied_at FROM rapport_schema_migrations ORDER BY version"
            )
            #expect(try rows.map { try $0.decode("version", as: Int.self) } == [1, 2, 3])
            #expect(try rows.map { try $0.decode("name", as: String.self) } == ["create_jobs", "add_note", "create_tags"])
            #expect(rows.allSatisfy { ($0["checksum"]?.count ?? 0) == 16 })
            let appliedAt = try rows[0].decode("applied_at", as: Date.self)
            #expect(abs(appliedAt.timeIntervalSince(start)) < 60)

            let after = try migrator.status(connection)
            #expect(after.allSatisfy { $0.appliedAt != nil })
            try connection.query("INSERT INTO jobs (id, note) VALUES (1, 'n')")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func migratorTargetAndRollback() throws {
        try PGTestDatabase.withSchema { connection throws in
            let migrator = Migrator(migrations: PGTestDatabase.sampleMigrations, table: "custom_migrations")
            #expect(try migrator.migrate(connection, to: 2).map(\.version) == [1, 2])
            #expect(try PGTestDatabase.tableExists(connection, "tags") == false)
            #expect(try migrator.migrate(connection, to: 1).isEmpty)

            #expect(try migrator.migrate(connection).map(\.version) == [3])
            #expect(try PGTestDatabase.tableExists(connection, "tags"))

            let rolledBack = try migrator.rollback(connection, steps: 2)
            #expect(rolledBack.map(\.version) == [3, 2])
            #expect(try PGTestDatabase.tableExists(connection, "tags") == false)
            let columns = try connection.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'jobs'"
            )
            #expect(columns.map { $0["column_name"] } == ["id"])
            let versions = try connection.query("SELECT version FROM custom_migrations ORDER BY version")
            #expect(versions.map { $0["version"] } == ["1"])
            #expect(try migrator.status(connection).map { $0.appliedAt != nil } == [true, false, false])

            #expect(try migrator.rollback(connection, steps: 0).isEmpty)
            #expect(try migrator.rollback(connection, steps: 10).map(\.version) == [1])
            #expect(try PGTestDatabase.tableExists(connection, "jobs") == false)
            #expect(try migrator.rollback(connection, steps: 1).isEmpty)

            #expect(try migrator.migrate(connection).map(\.version) == [1, 2, 3])
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func migratorRejectsEditedMigration() throws {
        try PGTestDatabase.withSchema { connection throws in
            var migrations = PGTestDatabase.sampleMigrations
            try Migrator(migrations: Array(migrations.prefix(1))).migrate(connection)

            migrations[0].up += "\nCREATE TABLE sneaky (x int);"
            let error = #expect(throws: PGError.self) { try Migrator(migrations: migrations).migrate(connection) }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("create_jobs") == true)
            // Nothing else was applied.
            #expect(try PGTestDatabase.tableExists(connection, "tags") == false)
            #expect(try Migrator(migrations: migrations).status(connection).map { $0.appliedAt != nil } == [true, false, false])
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func failedMigrationLeavesNoTrace() throws {
        try PGTestDatabase.withSchema { connection throws in
            let broken = Migration(
                version: 2,
                name: "broken",
                up: "CREATE TABLE half (x int);\nINSERT INTO half VALUES ('not a number');",
                down: "DROP TABLE half;"
            )
            let migrator = Migrator(migrations: [PGTestDatabase.sampleMigrations[0], broken, PGTestDatabase.sampleMigrations[2]])
            let error = #expect(throws: PGError.self) { try migrator.migrate(connection) }
            #expect(error?.code == .migration)
            #expect(error?.sqlState == "22P02")
            #expect(error?.message.contains("broken") == true)
            #expect(try PGTestDatabase.tableExists(connection, "jobs"))
            #expect(try PGTestDatabase.tableExists(connection, "half") == false)
            #expect(try PGTestDatabase.tableExists(connection, "tags") == false)
            #expect(try migrator.status(connection).map { $0.appliedAt != nil } == [true, false, false])

            let duplicate = Migrator(migrations: [PGTestDatabase.sampleMigrations[0], PGTestDatabase.sampleMigrations[0]])
            #expect(throws: PGError.self) { try duplicate.migrate(connection) }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func concurrentMigratorsApplyEachMigrationOnce() throws {
        try PGTestDatabase.withFreshDatabase { url throws in
            var migrations = PGTestDatabase.sampleMigrations
            // Hold the first migration open long enough for the other thread to contend.
            migrations[0].up = "SELECT pg_sleep(0.3);\n" + migrations[0].up
            let migrator = Migrator(migrations: migrations)

            final class Outcomes: Sendable {
                let results = Mutex<[Result<[Migration], any Error>]>([])
            }
            let outcomes = Outcomes()
            let ready = DispatchSemaphore(value: 0)
            let go = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            for _ in 0..<2 {
                let thread = Thread {
                    let result = Result<[Migration], any Error> {
                        let connection = try PGConnection(url)
                        defer { connection.close() }
                        ready.signal()
                        go.wait()
                        return try migrator.migrate(connection)
                    }
                    if case .failure = result {
                        ready.signal()
                    }
                    outcomes.results.withLock { $0.append(result) }
                    done.signal()
                }
                thread.start()
            }
            ready.wait()
            ready.wait()
            go.signal()
            go.signal()
            done.wait()
            done.wait()

            let results = outcomes.results.withLock { $0 }
            #expect(results.count == 2)
            var appliedVersions: [Int] = []
            for result in results {
                appliedVersions += try result.get().map(\.version)
            }
            #expect(appliedVersions.sorted() == [1, 2, 3])

            let connection = try PGConnection(url)
            defer { connection.close() }
            let rows = try connection.query("SELECT version FROM rapport_schema_migrations ORDER BY version")
            #expect(rows.map { $0["version"] } == ["1", "2", "3"])
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func loadReadsPairsFromDirectory() throws {
        try PGTestDatabase.withTemporaryDirectory { directory throws in
            try PGTestDatabase.write(directory, [
                "0002_add_note.up.sql": "ALTER TABLE jobs ADD COLUMN note text;",
                "0002_add_note.down.sql": "ALTER TABLE jobs DROP COLUMN note;",
                "0001_create_jobs.up.sql": "CREATE TABLE jobs (id bigint PRIMARY KEY);",
                "0001_create_jobs.down.sql": "DROP TABLE jobs;",
                "10_later.up.sql": "SELECT 1;",
                "10_later.down.sql": "",
                "README.md": "ignored",
            ])
            let migrations = try Migrator.load(directory: directory)
            #expect(migrations.map(\.version) == [1, 2, 10])
            #expect(migrations.map(\.name) == ["create_jobs", "add_note", "later"])
            #expect(migrations[0].up == "CREATE TABLE jobs (id bigint PRIMARY KEY);")
            #expect(migrations[0].down == "DROP TABLE jobs;")
            #expect(migrations[2].down == "")

            try PGTestDatabase.withSchema { connection throws in
                #expect(try Migrator(migrations: migrations).migrate(connection).count == 3)
            }
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func loadRejectsMissingHalfAndDuplicates() throws {
        try PGTestDatabase.withTemporaryDirectory { directory throws in
            try PGTestDatabase.write(directory, [
                "0001_create_jobs.up.sql": "CREATE TABLE jobs (id int);",
                "0001_create_jobs.down.sql": "DROP TABLE jobs;",
                "0002_add_note.up.sql": "ALTER TABLE jobs ADD COLUMN note text;",
            ])
            let missingDown = #expect(throws: PGError.self) { try Migrator.load(directory: directory) }
            #expect(missingDown?.code == .migration)
            #expect(missingDown?.message.contains("0002_add_note.down.sql") == true)
        }
        try PGTestDatabase.withTemporaryDirectory { directory throws in
            try PGTestDatabase.write(directory, ["0003_orphan.down.sql": "SELECT 1;"])
            let missingUp = #expect(throws: PGError.self) { try Migrator.load(directory: directory) }
            #expect(missingUp?.message.contains("0003_orphan.up.sql") == true)
        }
        try PGTestDatabase.withTemporaryDirectory { directory throws in
            try PGTestDatabase.write(directory, [
                "0001_a.up.sql": "", "0001_a.down.sql": "",
                "0001_b.up.sql": "", "0001_b.down.sql": "",
            ])
            let duplicate = #expect(throws: PGError.self) { try Migrator.load(directory: directory) }
            #expect(duplicate?.code == .migration)
            #expect(duplicate?.message.contains("0001_b") == true)
        }
        try PGTestDatabase.withTemporaryDirectory { directory throws in
            try PGTestDatabase.write(directory, ["create_jobs.sql": ""])
            let badName = #expect(throws: PGError.self) { try Migrator.load(directory: directory) }
            #expect(badName?.message.contains("create_jobs.sql") == true)
        }
        let missingDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("rapport-missing-\(UUID())")
        #expect(throws: PGError.self) { try Migrator.load(directory: missingDirectory) }
    }
}

/// Connection helpers for ``PostgresTests``.
private enum PGTestDatabase {
    static var url: String? {
        ProcessInfo.processInfo.environment["RAPPORT_PG_URL"]
    }

    /// Strings that break naive quoting, escaping or NULL handling.
    static let trickyStrings = [
        "plain", "with \"double\" quotes", "it's", #"back\slash"#, #"\\"#, #"trailing\"#, "a,b", "{braces}", "}{",
        "NULL", "null", "", " ", "  padded  ", "张伟", "multi\nline", #"\""#, "semi;colon", "$1",
    ]

    static let sampleMigrations = [
        Migration(
            version: 1,
            name: "create_jobs",
            up: "CREATE TABLE jobs (id bigint PRIMARY KEY);",
            down: "DROP TABLE jobs;"
        ),
        Migration(
            version: 2,
            name: "add_note",
            up: "ALTER TABLE jobs ADD COLUMN note text;\nCOMMENT ON COLUMN jobs.note IS 'free text';",
            down: "ALTER TABLE jobs DROP COLUMN note;"
        ),
        Migration(
            version: 3,
            name: "create_tags",
            up: "CREATE TABLE tags (job_id bigint REFERENCES jobs (id), tag text NOT NULL);",
            down: "DROP TABLE tags;"
        ),
    ]

    static func connect() throws -> PGConnection {
        try PGConnection(try #require(Self.url))
    }

    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    }

    /// Sends `value` as `$1::cast` and decodes it back.
    static func roundTrip<T: PGEncodable & PGDecodable>(_ connection: PGConnection, _ value: T, cast: String) throws -> T {
        let row = try #require(try connection.query("SELECT $1::\(cast) AS v", [value]).first)
        return try row.decode("v", as: T.self)
    }

    static func tableExists(_ connection: PGConnection, _ name: String) throws -> Bool {
        let row = try #require(try connection.query("SELECT to_regclass($1) IS NOT NULL AS present", [name]).first)
        return try row.decode("present")
    }

    /// Runs `body` with a connection whose `search_path` is a new schema, dropped afterwards.
    static func withSchema<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let schema = Self.uniqueName("rapport_test")
        let connection = try Self.connect()
        defer {
            connection.close()
            if let cleanup = try? Self.connect() {
                _ = try? cleanup.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
                cleanup.close()
            }
        }
        try connection.execute("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
        return try body(connection)
    }

    /// Runs `body` with the URL of a new, empty database, dropped afterwards.
    static func withFreshDatabase<T>(_ body: (String) throws -> T) throws -> T {
        let name = Self.uniqueName("rapport_test_db")
        let admin = try Self.connect()
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(name)")
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        return try body(try Self.conninfo(replacing: "dbname", with: name))
    }

    /// `RAPPORT_PG_URL` with one setting changed; works for URLs and `key=value` strings.
    static func conninfo(replacing key: String, with value: String) throws -> String {
        let base = try #require(Self.url)
        if var components = URLComponents(string: base), components.scheme?.hasPrefix("postgres") == true {
            switch key {
            case "dbname": components.path = "/" + value
            case "password": components.password = value
            default: Issue.record("unsupported key \(key)")
            }
            return try #require(components.string)
        }
        // In a key=value string the last occurrence of a key wins.
        return base + " " + key + "='" + value + "'"
    }

    static func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(Self.uniqueName("rapport-migrations"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    static func write(_ directory: URL, _ files: [String: String]) throws {
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }
}
