import Foundation
import RapportRuntime
import RapportServices
import RapportStore
import RapportDecoding
import RapportTesting

/// The bench's web-form traffic: distinct people with JSON bodies of a chosen size, a fraction of
/// repeats of earlier people (reformatted phone, upper-case email, new message id), and a fixed-width
/// `fields.bench_sent_at` slot that is stamped with the send time just before each publish.
///
/// Bodies are built before the clock starts, so generating them costs the measurement nothing.
struct BenchTraffic {
    /// One message ready to publish.
    struct Message {
        var routingKey: String
        var messageID: String
        var appID: String
        var body: [UInt8]
        /// Byte offset of the 17-byte `bench_sent_at` number in `body`.
        var stampOffset: Int
    }

    static let sources = ["site-main", "landing-spring", "partner-portal"]
    static let surnames = ["张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙"]
    static let given = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛"]
    static let companies = ["上海星河科技有限公司", "北京远航信息技术有限公司", "深圳云图网络有限公司",
                            "Acme Trading Ltd", "杭州青木电子商务有限公司"]
    /// `bench_sent_at` is written as `%017.6f` epoch seconds: ten integer digits until the year 2286.
    static let stampPlaceholder = "1000000000.000000"
    static let stampWidth = 17

    /// Builds `count` messages.
    ///
    /// - Parameters:
    ///   - run: Message-id prefix (`<run>-<k>`) and part of every email address.
    ///   - firstPerson: Number of the first person; phones are `130…139` + digits of the person number, so
    ///     runs with disjoint person ranges never share a phone.
    ///   - duplicateFraction: Share of messages that repeat an earlier person of this run.
    ///   - bodyBytes: Target body size; the `notes` field pads up to it.
    static func make(count: Int, run: String, firstPerson: Int, duplicateFraction: Double,
                     bodyBytes: Int) -> [Message] {
        var rng = SplitMix64(seed: run.hashValueStable)
        var messages: [Message] = []
        messages.reserveCapacity(count)
        var people = 0
        for k in 0..<count {
            let repeatEarlier = people > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < duplicateFraction
            let person: Int
            if repeatEarlier {
                person = Int(rng.next() % UInt64(people))
            } else {
                person = people
                people += 1
            }
            messages.append(Self.message(k, person: person, run: run, firstPerson: firstPerson,
                                         repeated: repeatEarlier, bodyBytes: bodyBytes))
        }
        return messages
    }

    static func message(_ k: Int, person i: Int, run: String, firstPerson: Int, repeated: Bool,
                        bodyBytes: Int) -> Message {
        let number = firstPerson + i
        let digits = String(13_000_000_000 + number % 1_000_000_000)
        let d = Array(digits)
        let phone = repeated ? "+86 " + String(d[0..<3]) + "-" + String(d[3..<7]) + "-" + String(d[7...]) : digits
        let email = "user\(number).\(run)@example.cn"
        // Distinct people look distinct (as in DemoData): three-character names and their own street numbers.
        let name = DemoData.person(i, run: "").name
        let source = Self.sources[i % Self.sources.count]
        let head = """
            {"name":"\(name)","phone":"\(phone)","email":"\(repeated ? email.uppercased() : email)",\
            "company":"\(Self.companies[i % Self.companies.count])","address":"上海市浦东新区世纪大道\(i + 1)号",\
            "message":"想了解企业版报价，请联系我。","submitted_at":"2026-11-25T09:\(String(format: "%02d", k % 60)):00+08:00",\
            "utm":{"utm_source":"baidu","utm_campaign":"winter-\(i % 3)"},\
            "fields":{"budget":"10-50万","seats":\(10 + i % 90),"bench_sent_at":
            """
        let middle = #","notes":""#
        let tail = #""}}"#
        var body = Array(head.utf8)
        let stampOffset = body.count
        body.append(contentsOf: Self.stampPlaceholder.utf8)
        body.append(contentsOf: middle.utf8)
        let pad = max(0, bodyBytes - body.count - tail.utf8.count)
        let filler = Array("Please call after 6pm; interested in 50 seats and the API. ".utf8)
        for j in 0..<pad { body.append(filler[j % filler.count]) }
        body.append(contentsOf: tail.utf8)
        return Message(routingKey: "inbound.webform.\(source)", messageID: "\(run)-\(k)", appID: source,
                       body: body, stampOffset: stampOffset)
    }

    /// Writes `epoch` as `%017.6f` into the stamp slot, without allocating.
    static func stamp(_ epoch: Double, into body: inout [UInt8], at offset: Int) {
        var micros = UInt64((epoch * 1_000_000).rounded())
        body.withUnsafeMutableBufferPointer { b in
            var i = offset + Self.stampWidth - 1
            for _ in 0..<6 {
                b[i] = UInt8(48 + micros % 10)
                micros /= 10
                i -= 1
            }
            b[i] = UInt8(ascii: ".")
            i -= 1
            for _ in 0..<10 {
                b[i] = UInt8(48 + micros % 10)
                micros /= 10
                i -= 1
            }
        }
    }
}

/// A small deterministic generator, so a run id always yields the same traffic.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: stable across processes, unlike `hashValue`.
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in self.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01B3
        }
        return h
    }
}
