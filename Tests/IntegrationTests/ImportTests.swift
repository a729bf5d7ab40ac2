import RapportDecoding
import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import Testing
import RapportRuntime
import RapportServices
import RapportStore
import RapportAdmin
import RapportTesting

/// `rapport import` end to end: file → broker → workers → ledger, on a real RabbitMQ and PostgreSQL.
@Suite(.enabled(if: liveServers, "set RAPPORT_PG_URL, RAPPORT_AMQP_URL and RAPPORT_MGMT_URL (ops/test does) to run import integration tests"))
struct ImportIntegrationTests {
    static let mappingPath = TestEnvironment.repoRoot.appendingPathComponent("connectors/csv/mapping.json").path
    static let recordsMappingPath = TestEnvironment.repoRoot.appendingPathComponent("connectors/csv/crm-dedupe.mapping.json").path

    /// The ingest consumer on the import queue, with the archiver and the relay.
    static func startImportWorkers(_ env: TestEnvironment) throws -> RunningWorkers {
        var s = env.settings
        s.maxBodyBytes = 65_536
        (s.prefetch, s.batchSize, s.batchWaitMilliseconds) = (200, 100, 5)
        return try env.startWorkers(ingest: try env.ingestConsumer(queue: "rapport.inbound.import", settings: s))
    }

    /// A CRM export (`rec_id` first) of 19 data rows: line 5 opens a quote it never closes, line 9 has two
    /// cells too many.
    static func writeFaultyRecordsFile() throws -> String {
        var lines = ["rec_id,name,phone,email,company,address,channel,submitted_at"]
        for number in 1...19 {
            let id = "R\(1000 + number)", phone = "139" + String(format: "%08d", number)
            switch number + 1 {
            case 5: lines.append("\(id),\"Stray Quote,\(phone),,,,web,2026-11-01 09:30:00")
            case 9: lines.append("\(id),Extra Cells,\(phone),,,,web,2026-11-01 09:30:00,surplus,cells")
            default: lines.append("\(id),User \(number),\(phone),u\(number)@example.com,,,web,2026-11-01 09:30:00")
            }
        }
        let path = NSTemporaryDirectory() + "import-\(UUID().uuidString).csv"
        try (lines.joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Imports ``writeFaultyRecordsFile()`` with the import workers running, and waits until its 17 good
    /// rows are ingested and its 2 bad lines archived.
    static func importFaultyRecords(_ env: TestEnvironment, db: PGConnection) async throws -> ImportJob.Report {
        let path = try Self.writeFaultyRecordsFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let workers = try Self.startImportWorkers(env)
        defer { workers.stop() }
        let conn = try env.amqp(name: "importer")
        defer { conn.close() }
        let mapping = try ChannelMapping(contentsOfFile: Self.recordsMappingPath)
        let report = try ImportJob(path: path, source: "crm-export", mapping: mapping).run(publisher: conn, db: db)
        try await env.waitUntil("17 rows ingested and 2 archived") {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 17
                && env.count("select count(*)::int8 as n from dead_letters") == 2
        }
        return report
    }

    @Test(.timeLimit(.minutes(2)))
    func aStrayQuoteCostsOneLineAndTheCountsAddUp() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let report = try await Self.importFaultyRecords(env, db: db)
        #expect(report.rows == 19)
        #expect(report.published == 17)
        #expect(report.dead == ["malformed_row": 1, "invalid_field": 1])
        #expect(report.published + report.dead.values.reduce(0, +) == report.rows)
        #expect(report.firstErrors.contains { $0.contains("line 5") && $0.contains("quoted field never closed") }, "\(report.firstErrors)")
        #expect(report.firstErrors.contains { $0.contains("line 9") }, "\(report.firstErrors)")
        let dead = try DeadLetterAdmin(db: db).list(.init(all: true))
        #expect(Set(dead.map(\.messageID)) == ["\(report.batchID):5", "\(report.batchID):9"])
        #expect(dead.first { $0.messageID == "\(report.batchID):5" }?.error?.contains("line 5") == true)
        let status = Dictionary(try ImportJob.status(batchID: report.batchID, db: db), uniquingKeysWith: { a, _ in a })
        #expect(status["rows in file"] == 19 && status["published"] == 17 && status["refused at import"] == 2)
        #expect(status["dead: malformed_row"] == 1 && status["dead: invalid_field"] == 1)
    }

    /// A GB18030 CSV as Chinese Excel writes it, with a repeat, a row without contact and a bad date.
    static func writeGBKFile() throws -> String {
        let csv = """
            姓名,手机,邮箱,公司,地址,渠道,提交时间
            张伟,138 0013 8001,zw@example.cn,上海星河科技有限公司,上海市浦东新区世纪大道1号,展会,2026-11-01 09:30:00
            王芳,13900139002,,北京远航信息技术有限公司,北京市朝阳区建国路88号,官网,2026-11-02 10:00:00
            張偉,+86-138-0013-8001,,,,,2026-11-03 11:00:00
            李娜,,,,广州市天河区体育西路3号,转介绍,2026-11-04 12:00:00
            赵强,13700137003,,,,官网,不是日期
            """.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        let path = NSTemporaryDirectory() + "import-\(UUID().uuidString).csv"
        let (status, out) = try run("/usr/bin/python3", ["-c", "import sys; open(sys.argv[1],'wb').write(sys.argv[2].encode('gb18030'))", path, csv])
        guard status == 0 else { throw TestFailure("python3: \(out)") }
        return path
    }

    @Test(.timeLimit(.minutes(2)))
    func ledgerExportNamesTheUpstreamKey() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let db = try env.db()
        defer { db.close() }
        let report = try await Self.importFaultyRecords(env, db: db)

        // Every row, imported or refused, names its rec_id (R1001 is line 2), next to its <batch>:<line>.
        var text = ""
        #expect(try LedgerExport.run(db: db, since: nil, format: .csv) { text += $0 } == 19)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(lines.first?.last == "upstream_key")
        let keys = Dictionary(lines.dropFirst().map { (String($0[1]), String($0.last!)) }, uniquingKeysWith: { a, _ in a })
        #expect(keys.count == 19)
        for line in 2...20 {
            #expect(keys["\(report.batchID):\(line)"] == "R\(999 + line)", "line \(line)")
        }
        var json = ""
        try LedgerExport.run(db: db, since: nil, format: .json) { json += $0 }
        let objects = try json.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)).objectValue ?? [:] }
        let refused = objects.first { $0["message_id"] == .string("\(report.batchID):9") }
        #expect(refused?["outcome"] == .string("dead_letter") && refused?["upstream_key"] == .string("R1008"))
        #expect(objects.filter { $0["upstream_key"] != nil }.count == 19)
    }

    @Test(.timeLimit(.minutes(2)))
    func importingAFileTwiceCreatesNothingNew() async throws {
        let env = try TestEnvironment()
        defer { env.tearDown() }
        let path = try Self.writeGBKFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapping = try ChannelMapping(contentsOfFile: Self.mappingPath)
        let workers = try Self.startImportWorkers(env)
        defer { workers.stop() }

        let conn = try env.amqp(name: "importer")
        defer { conn.close() }
        let db = try env.db()
        defer { db.close() }
        let report = try ImportJob(path: path, source: "crm-export", mapping: mapping).run(publisher: conn, db: db)
        #expect(report.rows == 5)
        #expect(report.published == 4)
        #expect(report.dead == ["invalid_field": 1])
        #expect(report.firstErrors.first?.contains("line 6") == true, "\(report.firstErrors)")

        try await env.waitUntil("rows ingested and the bad one archived") {
            try env.count("select count(*)::int8 as n from inbound_ledger") == 4
                && env.count("select count(*)::int8 as n from dead_letters") == 1
        }
        // 張偉 repeats 张伟's phone in another format: merged. 李娜 has only a name and an address: kept.
        #expect(try env.count("select count(*)::int8 as n from leads") == 3)
        #expect(try env.count("select count(*)::int8 as n from leads where name = '李娜' and phone is null and email is null") == 1)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger where outcome = 'merged'") == 1)
        let dl = try #require(try DeadLetterAdmin(db: db).list(.init(all: true)).first)
        #expect(dl.messageID == "\(report.batchID):6")
        #expect(dl.error?.contains("line 6") == true)

        // The same file again: same batch, same message ids, nothing new.
        let again = try ImportJob(path: path, source: "crm-export", mapping: mapping).run(publisher: conn, db: db)
        #expect(again.batchID == report.batchID)
        try await env.waitUntil("second import seen") { workers.counters.snapshot["duplicate_message"] == 4 }
        #expect(try env.count("select count(*)::int8 as n from leads") == 3)
        #expect(try env.count("select count(*)::int8 as n from inbound_ledger") == 4)
        let status = Dictionary(try ImportJob.status(batchID: report.batchID, db: db), uniquingKeysWith: { a, _ in a })
        #expect(status["created"] == 3 && status["merged"] == 1 && status["rows in file"] == 5)

        // The ledger export accounts for every row: four leads' messages and one dead letter.
        var text = ""
        let n = try LedgerExport.run(db: db, since: nil, format: .csv, batch: 2) { text += $0 }
        #expect(n == 5)
        let lines = text.split(separator: "\n")
        #expect(lines.first == "source,message_id,outcome,lead_id,customer_id,score,reasons,error_code,at,upstream_key")
        // This mapping has no record id: no upstream key.
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",") })
        #expect(lines.filter { $0.contains(",merged,") }.count == 1)
        #expect(lines.filter { $0.contains(",dead_letter,") && $0.contains("invalid_field") }.count == 1)
        var json = ""
        try LedgerExport.run(db: db, since: nil, format: .json) { json += $0 }
        let merged = try json.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
            .first { $0.objectValue?["outcome"] == .string("merged") }
        #expect(merged?.objectValue?["score"] != nil)
        #expect(merged?.objectValue?["reasons"]?.jsonString.contains("phone=exact") == true)
    }
}
