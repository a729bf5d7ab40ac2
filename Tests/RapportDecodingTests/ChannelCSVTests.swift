import RapportDecoding
import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite("Channel: csv")
struct ChannelCSVTests {
    // MARK: The test helper that splits CSV text

    @Test func testHelperSplitsQuotedCells() {
        let records = ChannelFixtures.csvRecords("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\n")
        #expect(records.map(\.line) == [1, 2, 4])
        #expect(records.map(\.cells) == [["a", "b", "c"], ["1", "x, y", "say \"hi\""], ["2", "two\nlines", ""]])
    }

    // MARK: The Chinese CRM export (connectors/csv/sample.csv)

    @Test func chineseExportSampleDecodes() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/mapping.json"))
        let text = String(decoding: try ChannelFixtures.bytes("csv/sample.csv"), as: UTF8.self)
        let records = ChannelFixtures.csvRecords(text)
        let header = records[0].cells
        let leads = try records.dropFirst().map {
            try decoder.decodeRow(header: header, row: $0.cells, line: $0.line, source: "old-crm", file: "sample.csv").get()
        }
        #expect(leads.count == 3)

        let first = leads[0].submission
        #expect(first.source == "old-crm")
        #expect(first.channel == "import")
        #expect(first.messageID == "sample.csv:2")
        #expect(first.name == "张伟")
        #expect(first.phone == "+8613800138000")
        #expect(first.email == "zhang.wei@example.cn")
        #expect(first.company == "上海星河科技有限公司")
        #expect(first.address == "上海市浦东新区世纪大道1号")
        #expect(first.submittedAt == ChannelFixtures.utc(2026, 11, 20, 6, 5))
        #expect(first.fields == ["original_channel": .string("展会"), "备注": .string("想要报价, 尽快联系")])
        #expect(leads[0].platformLeadID == nil)
        #expect(leads[0].idempotencyKey == "sample.csv:2")

        let second = leads[1].submission
        #expect(second.phone == nil)
        #expect(second.email == "lina@163.com")
        #expect(second.submittedAt == ChannelFixtures.utc(2026, 11, 21, 1, 30))
        #expect(second.fields == ["original_channel": .string("官网")])

        let third = leads[2].submission
        #expect(third.phone == "+8675588888888")
        #expect(third.submittedAt == ChannelFixtures.utc(2026, 11, 21, 16, 0))
    }

    @Test func rowProblemsNameTheLocation() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/mapping.json"))
        let header = ["姓名", "手机", "邮箱", "提交时间"]

        let short = ChannelFixtures.rejection(decoder.decodeRow(header: header, row: ["张伟"], line: 7, source: "crm", file: "a.csv"))
        #expect(short?.code == .invalidField)
        #expect(short?.reason.hasPrefix("a.csv line 7: ") == true)

        let badDate = ChannelFixtures.rejection(
            decoder.decodeRow(header: header, row: ["张伟", "13800138000", "", "20/11/2026"], line: 8, source: "crm", file: "a.csv"))
        #expect(badDate?.code == .invalidField)
        #expect(badDate?.field == "提交时间")

        // The shipped import mapping lets rows without phone or email through (imports may identify people by
        // name and address; the import queue's decoder decides). A mapping that demands a contact says where.
        #expect(ChannelFixtures.rejection(decoder.decodeRow(header: header, row: ["张伟", "", "", ""], line: 9, source: "crm")) == nil)
        let strict = try MappedDecoder(mapping: ChannelFixtures.mapping(json: #"{"channel":"csv","format":"csv","fields":{"name":"姓名","phone":"手机","email":"邮箱"},"required_any":["phone","email"]}"#))
        let noContact = ChannelFixtures.rejection(
            strict.decodeRow(header: header, row: ["张伟", "", "", ""], line: 9, source: "crm"))
        #expect(noContact?.code == .missingContact)
        #expect(noContact?.reason.hasPrefix("Line 9: ") == true)

        let noSource = ChannelFixtures.rejection(
            decoder.decodeRow(header: header, row: ["张伟", "13800138000", "", ""], line: 10, source: " "))
        #expect(noSource?.code == .missingSource)
    }

    // MARK: Shared data sets

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ChannelFixtures.crmDedupeRecords.path)))
    func crmDedupeRecordsDecode() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/crm-dedupe.mapping.json"))
        let (header, rows) = try #require(try ChannelFixtures.csv(ChannelFixtures.crmDedupeRecords, limit: 49))
        #expect(header == ["rec_id", "name", "phone", "email", "company", "address", "channel", "submitted_at"])
        #expect(rows.count == 49)
        var leads: [DecodedLead] = []
        for row in rows {
            let result = decoder.decodeRow(header: header, row: row.cells, line: row.line, source: "crm-dedupe", file: "records.csv")
            leads.append(try result.get())
        }
        // L000001,蔺斌,13599711680,bin.lin@126.com,,浙江省杭州市西湖区淮海大道869号祥盛家园15幢2209室,import,2024-01-01 00:20:49
        let first = leads[0]
        #expect(first.platformLeadID == "L000001")
        #expect(first.idempotencyKey == "csv:L000001")
        #expect(first.submission.messageID == "records.csv:2")
        #expect(first.submission.name == "蔺斌")
        #expect(first.submission.phone == "+8613599711680")
        #expect(first.submission.email == "bin.lin@126.com")
        #expect(first.submission.company == nil)
        #expect(first.submission.address == "浙江省杭州市西湖区淮海大道869号祥盛家园15幢2209室")
        #expect(first.submission.submittedAt == ChannelFixtures.utc(2023, 12, 31, 16, 20, 49))
        #expect(first.submission.fields == ["original_channel": .string("import"), "_platform_lead_id": .string("L000001")])
        // L000004 has a Guangzhou landline.
        #expect(leads[3].submission.phone == "+862054169283")
        #expect(Set(leads.map(\.idempotencyKey)).count == 49)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ChannelFixtures.crmDedupeRecords.path)))
    func crmDedupeWholeFileOnlyRejectsRowsWithoutContact() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/crm-dedupe.mapping.json"))
        let (header, rows) = try #require(try ChannelFixtures.csv(ChannelFixtures.crmDedupeRecords, limit: .max))
        var accepted = 0
        var codes: [RejectionCode: Int] = [:]
        for row in rows {
            switch decoder.decodeRow(header: header, row: row.cells, line: row.line, source: "crm-dedupe", file: "records.csv") {
            case .success: accepted += 1
            case .failure(let rejection): codes[rejection.code, default: 0] += 1
            }
        }
        #expect(rows.count == 7479)
        #expect(Set(codes.keys).isSubset(of: [.missingContact]))
        #expect(accepted > 7300)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ChannelFixtures.febrlRecords.path)))
    func febrlRecordsDecode() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/febrl.mapping.json"))
        let (header, rows) = try #require(try ChannelFixtures.csv(ChannelFixtures.febrlRecords, limit: 49))
        #expect(header.first == "rec_id")
        #expect(rows.count == 49)
        var leads: [DecodedLead] = []
        for row in rows {
            let result = decoder.decodeRow(header: header, row: row.cells, line: row.line, source: "febrl", file: "febrl1.csv")
            leads.append(try result.get())
        }
        // 1-00313,ben,browne,42,tillyard drive,willow wood,mentone,2232,vic,19241201,5216720
        let first = leads[0]
        #expect(first.platformLeadID == "1-00313")
        #expect(first.submission.name == "ben browne")
        #expect(first.submission.address == "42 tillyard drive, willow wood, mentone VIC 2232")
        #expect(first.submission.phone == nil)
        #expect(first.submission.email == nil)
        #expect(
            first.submission.fields == [
                "birth_date": .string("1924-12-01"),
                "national_id": .string("5216720"),
                "_platform_lead_id": .string("1-00313"),
            ])
        // 1-00352,douglas,mycko,,biraban place,,loganholme,2103,vic,19500411,3256786: empty parts are skipped.
        #expect(leads[3].submission.address == "biraban place, loganholme VIC 2103")
    }

    @Test func febrlImpossibleBirthDateIsKeptRaw() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/febrl.mapping.json"))
        let header = "rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id"
            .split(separator: ",").map(String.init)
        // Line 148 of febrl1.csv: the 33rd of December.
        let row = "1-00894,sophie,lovelock,26,durraw een,chant street,williamstown,2650,vic,19371233,3072763"
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let lead = try decoder.decodeRow(header: header, row: row, line: 148, source: "febrl", file: "febrl1.csv").get()
        #expect(lead.submission.fields["birth_date"] == nil)
        #expect(lead.submission.fields["raw_birth_date"] == .string("19371233"))
    }

    @Test func febrlPhoneColumnUsesAustralia() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/febrl.mapping.json"))
        let lead = try decoder.decodeRow(
            header: ["rec_id", "given_name", "surname", "phone_number"], row: ["9-1", "amy", "li", "02 9876 5432"],
            line: 2, source: "febrl"
        ).get()
        #expect(lead.submission.phone == "+61298765432")
    }

    // MARK: The same mapping on the message path

    @Test func csvMappingAlsoDecodesARowPublishedAsJSON() throws {
        let decoder = try MappedDecoder(mapping: ChannelFixtures.mapping("csv/crm-dedupe.mapping.json"))
        let body = #"{"rec_id": "L000002", "name": "李磊", "phone": "13885263728", "email": "", "channel": "ads", "submitted_at": "2024-01-01 04:37:28"}"#
        let lead = try decoder.decode(ChannelFixtures.envelope(body, routingKey: "inbound.import.crm-dedupe")).get()
        #expect(lead.submission.channel == "import")
        #expect(lead.submission.phone == "+8613885263728")
        #expect(lead.idempotencyKey == "csv:L000002")
        #expect(lead.submission.fields["email"] == nil)
    }
}
