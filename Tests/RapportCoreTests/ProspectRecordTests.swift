import Foundation
import Testing
import RapportSupport
@testable import RapportCore

struct ProspectRecordTests {
    @Test func creditCodesAreCheckedByTheirCheckCharacter() {
        // Published examples of valid codes (GB 32100-2015 check character).
        #expect(ProspectRecord.creditCode("91350100M000100Y43") == "91350100M000100Y43")
        #expect(ProspectRecord.creditCode(" 91350100m000100y43 ") == "91350100M000100Y43")
        #expect(ProspectRecord.creditCode("91350100M000100Y44") == nil)  // wrong check character
        #expect(ProspectRecord.creditCode("91350100M000100Y4") == nil)  // 17 characters
        #expect(ProspectRecord.creditCode("91350100I000100Y43") == nil)  // I is not in the alphabet
    }

    @Test(arguments: [("500万元", Decimal(5_000_000)), ("1,000.5万人民币", Decimal(10_005_000)), ("2亿", Decimal(200_000_000)),
                      ("3000000", Decimal(3_000_000)), ("50 万美元", Decimal(500_000))])
    func capitalIsReadInYuan(_ raw: String, _ yuan: Decimal) {
        #expect(ProspectRecord.capital(raw) == yuan)
    }

    @Test func badCapitalAndDatesAreNil() {
        #expect(ProspectRecord.capital("未知") == nil)
        #expect(ProspectRecord.capital("5万3") == nil)
        #expect(ProspectRecord.day("2015-02-30") == nil)
        #expect(ProspectRecord.day("15-3-12") == nil)
    }

    @Test(arguments: [("2015-03-12", "2015-03-12"), ("2015/3/12", "2015-03-12"), ("2015年3月2日", "2015-03-02"), ("2015.12.31", "2015-12-31")])
    func datesInTheirUsualSpellings(_ raw: String, _ day: String) {
        #expect(ProspectRecord.day(raw) == day)
    }

    @Test func aRecordNamesTheFieldThatFails() throws {
        let ok = try ProspectRecord(["name": "北京华信科技有限公司", "phones": ["010-6255 8888", "13671234095"], "registered_capital": "500万"])
        #expect(ok.phones == ["+861062558888", "+8613671234095"])
        #expect(ok.searchDocument.match("hx")?.first?.how == .initials)
        for (values, field) in [(["name": "x", "founded_on": "yesterday"], "founded_on"), (["name": "x", "phones": ["12"]], "phones[0]"),
                                (["credit_code": "91350100M000100Y43"], "name"), (["name": "x", "revenue": "1"], "revenue")]
            as [([String: JSONValue], String)] {
            #expect(throws: CustomerError.self) { try ProspectRecord(values) }
            do { _ = try ProspectRecord(values) } catch let e as CustomerError { #expect(e.field == field) } catch {}
        }
    }
}
