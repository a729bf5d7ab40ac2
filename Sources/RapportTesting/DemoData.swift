import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres
import RapportStore

/// Made-up web-form traffic for the quickstart, tests and benches: people, repeats in other formatting,
/// and the malformed messages a real form endpoint sends.
public enum DemoData {
    static let surnames = ["张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙"]
    static let given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛"]
    static let given2 = ["华", "明", "玲", "强", "平", "红", "飞", "斌", "丽", "春", "兰", "峰", "霞", "超", "英", "东", "梅", "刚", "琴", "辉"]
    static let companies = ["上海星河科技有限公司", "北京远航信息技术有限公司", "深圳云图网络有限公司", "Acme Trading Ltd", "杭州青木电子商务有限公司"]
    static let sources = ["site-main", "landing-spring", "partner-portal"]

    /// Person `i` of a run: a stable phone and email.
    public static func person(_ i: Int, run: String) -> (name: String, phone: String, email: String) {
        let base = Int(UInt64(bitPattern: StableHash.fnv1a64(run)) % 90) * 1_000_000
        let phone = "139" + String(format: "%08d", (base + i) % 100_000_000)
        // Distinct people must look distinct to the matcher: 2,880 names, and each its own street number.
        let name = Self.surnames[i % Self.surnames.count] + Self.given[(i / Self.surnames.count) % Self.given.count]
            + Self.given2[(i / (Self.surnames.count * Self.given.count)) % Self.given2.count]
        return (name, phone, "user\(i).\(run)@example.cn")
    }

    /// A web-form message for person `i`.
    public static func webForm(_ i: Int, run: String, messageID: String, phoneStyle: Int = 0, bodyPadding: Int = 0) -> InboundMessage {
        let p = Self.person(i, run: run)
        let digits = Array(p.phone)
        let phone: String
        switch phoneStyle % 4 {
        case 0: phone = p.phone
        case 1: phone = "+86-" + String(digits[0..<3]) + "-" + String(digits[3..<7]) + "-" + String(digits[7...])
        case 2: phone = "0086 " + p.phone
        default: phone = String(digits[0..<3]) + " " + String(digits[3..<7]) + " " + String(digits[7...])
        }
        let source = Self.sources[i % Self.sources.count]
        var form: [String: JSONValue] = [
            "name": .string(phoneStyle == 0 ? p.name : " " + p.name + " "),
            "phone": .string(phone),
            "company": .string(Self.companies[i % Self.companies.count]),
            "address": .string("上海市浦东新区世纪大道\(i + 1)号"),
            "message": .string("想了解企业版报价，请联系我。"),
            "submitted_at": .string("2026-11-25T09:\(String(format: "%02d", i % 60)):00+08:00"),
            "utm": .object(["utm_source": .string("baidu"), "utm_campaign": .string("winter-\(i % 3)")]),
            "fields": .object(["budget": .string("10-50万"), "seats": .number(Double(10 + i % 90))]),
        ]
        if phoneStyle % 2 == 0 { form["email"] = .string(phoneStyle == 0 ? p.email : p.email.uppercased()) }
        if bodyPadding > 0 { form["fields"] = .object(["notes": .string(String(repeating: "x", count: bodyPadding))]) }
        return InboundMessage(
            routingKey: "inbound.webform.\(source)",
            body: Array(JSONValue.object(form).jsonString.utf8),
            properties: AMQPProperties(contentType: "application/json", messageID: messageID, appID: source, timestamp: Date()))
    }

    /// People, repeats of the first ones with other formatting (new message ids), and malformed messages.
    public static func webForms(people: Int, duplicates: Int, malformed: Int, run: String) -> [InboundMessage] {
        var out: [InboundMessage] = []
        for i in 0..<people { out.append(Self.webForm(i, run: run, messageID: "\(run)-p\(i)")) }
        for j in 0..<duplicates where people > 0 {
            out.append(Self.webForm(j % people, run: run, messageID: "\(run)-d\(j)", phoneStyle: 1 + j % 3))
        }
        for k in 0..<malformed { out.append(Self.malformed(k, run: run)) }
        return out
    }

    /// The kinds of broken message the workers must dead-letter, in turn.
    public static func malformed(_ k: Int, run: String) -> InboundMessage {
        let id = "\(run)-bad\(k)"
        var m = InboundMessage(routingKey: "inbound.webform.site-main", body: Array(#"{"name":"坏消息","phone":"13800138000""#.utf8),
                               properties: AMQPProperties(contentType: "application/json", messageID: id, appID: "site-main"))
        switch k % 6 {
        case 0: break  // truncated JSON
        case 1: m.body = Array(#"{"name":"没有联系方式","company":"某公司"}"#.utf8)
        case 2: m.body = Array(#"{"name":"无消息号","phone":"13800138000"}"#.utf8); m.properties.messageID = nil
        case 3: m.body = Array("name=x&phone=13800138000".utf8); m.properties.contentType = "application/x-www-form-urlencoded"
        case 4: m.body = Array(#"{"name":"电话不对","phone":"12"}"#.utf8)
        default: m.routingKey = "inbound.webform"; m.body = Array(#"{"phone":"13800138000"}"#.utf8); m.properties.appID = nil
        }
        return m
    }

    /// Customers owned by reps for the first `count` people, so their forms raise 撞单 warnings.
    /// Keys are stored as ingest stores them: blind under `keyring`'s index, or plain without one.
    public static func seedCustomers(_ count: Int, run: String, db: PGConnection, keyring: Keyring?) throws {
        let index = try keyring?.blindIndex(db: db) ?? .plain
        for i in 0..<count {
            let p = Self.person(i, run: run)
            let key = index(IdentityKey.phone("+86" + p.phone))
            try db.query(
                """
                with c as (
                    insert into customers (id, name, phone, owner)
                    select $1::uuid, $2, $3, $4
                    where not exists (select 1 from customer_identities where key = $5)
                    returning id)
                insert into customer_identities (key, customer_id) select $5, id from c
                """, [UUID(), p.name, "+86" + p.phone, "rep-\(i % 3 + 1)", key])
        }
    }
}
