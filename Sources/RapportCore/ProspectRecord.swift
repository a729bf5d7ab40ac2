import Foundation
import RapportSupport

/// A target company or person in the prospect base (在线搜客), as a directory export lists it. Values are
/// normalized on the way in: the unified social credit code upper-cased and checked, registered capital
/// in yuan (`500万元` → 5000000), the founding date as `YYYY-MM-DD`, phones in E.164.
public struct ProspectRecord: Sendable, Hashable {
    public var kind: CustomerRecord.Kind = .company
    public var name: String = ""
    public var creditCode: String?
    public var legalRep: String?
    public var registeredCapital: Decimal?
    public var foundedOn: String?
    public var industry: String?
    public var province: String?
    public var city: String?
    public var district: String?
    public var size: String?
    public var phones: [String] = []
    public var emails: [String] = []
    public var website: String?

    public init() {}

    public static let fields: [String] = ["kind", "name", "credit_code", "legal_rep", "registered_capital", "founded_on", "industry",
                                          "province", "city", "district", "size", "phones", "emails", "website"]

    /// A prospect from field → value (strings, or lists for phones and emails); errors name the field.
    public init(_ values: [String: JSONValue]) throws(CustomerError) {
        if let unknown = values.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw CustomerError(.unknownField, field: unknown, "prospects have no field \(unknown)")
        }
        let f = CustomerRecord.Fields(values, path: "")
        if let kind = try f.string("kind") {
            guard let k = CustomerRecord.Kind(rawValue: kind) else { throw CustomerError(.invalid, field: "kind", "kind is person or company") }
            self.kind = k
        }
        guard let name = try f.string("name").flatMap(Normalize.name) else { throw CustomerError(.invalid, field: "name", "a prospect has a name") }
        self.name = name
        if let code = try f.string("credit_code").flatMap(Normalize.text) {
            guard let valid = Self.creditCode(code) else {
                throw CustomerError(.invalid, field: "credit_code", "\(code) is not a unified social credit code (18 characters, check digit)")
            }
            self.creditCode = valid
        }
        self.legalRep = try f.string("legal_rep").flatMap(Normalize.name)
        if let capital = try f.string("registered_capital").flatMap(Normalize.text) {
            guard let yuan = Self.capital(capital) else {
                throw CustomerError(.invalid, field: "registered_capital", "\(capital) is not an amount (e.g. 500万元, 1000000)")
            }
            self.registeredCapital = yuan
        }
        if let day = try f.string("founded_on").flatMap(Normalize.text) {
            guard let d = Self.day(day) else { throw CustomerError(.invalid, field: "founded_on", "\(day) is not a date (2015-03-12, 2015/3/12, 2015年3月12日)") }
            self.foundedOn = d
        }
        self.industry = try f.string("industry").flatMap(Normalize.text)
        self.province = try f.string("province").flatMap(Normalize.text)
        self.city = try f.string("city").flatMap(Normalize.text)
        self.district = try f.string("district").flatMap(Normalize.text)
        self.size = try f.string("size").flatMap(Normalize.text)
        self.phones = try f.phones("phones")
        self.emails = try f.emails("emails")
        self.website = try f.string("website").flatMap(Normalize.text)
    }

    /// What search indexes: the name (a company's core gets pinyin), legal representative, credit code,
    /// phones, emails, region, industry and website.
    public var searchDocument: SearchDocument {
        var f: [SearchDocument.Field] = [.init("name", self.kind == .company ? .company : .name, self.name)]
        if let r = self.legalRep { f.append(.init("legal rep", .name, r)) }
        if let c = self.creditCode { f.append(.init("credit code", .text, c)) }
        f += self.phones.map { .init("phone", .phone, $0) } + self.emails.map { .init("email", .email, $0) }
        let region = [self.province, self.city, self.district].compactMap { $0 }.joined(separator: " ")
        if !region.isEmpty { f.append(.init("region", .text, region)) }
        if let i = self.industry { f.append(.init("industry", .text, i)) }
        if let w = self.website { f.append(.init("website", .text, w)) }
        return SearchDocument(f)
    }

    // MARK: Values

    static let creditAlphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let creditWeights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// The code upper-cased, when it is 18 characters of GB 32100-2015's alphabet with a right check
    /// character; else `nil`.
    public static func creditCode(_ raw: String) -> String? {
        let code = Array(raw.uppercased().filter { !$0.isWhitespace })
        guard code.count == 18 else { return nil }
        var sum = 0
        for (i, c) in code.prefix(17).enumerated() {
            guard let v = Self.creditAlphabet.firstIndex(of: c) else { return nil }
            sum += v * Self.creditWeights[i]
        }
        let check = (31 - sum % 31) % 31
        return code[17] == Self.creditAlphabet[check] ? String(code) : nil
    }

    /// Yuan from `500万元`, `1,000.5万人民币`, `2亿`, `3000000`, `50万美元` (the currency word is dropped:
    /// directories state most capital in yuan, and the filter is a rough size).
    public static func capital(_ raw: String) -> Decimal? {
        let s = raw.filter { $0 != "," && $0 != "，" }.trimmingCharacters(in: .whitespaces)
        // ASCII digits: Swift counts 万 and 亿 as numbers too.
        let number = String(s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") })
        guard !number.isEmpty, let value = Decimal(string: number, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        var rest = s.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        var factor: Decimal = 1
        if rest.hasPrefix("亿") { factor = 100_000_000 } else if rest.hasPrefix("万") { factor = 10_000 }
        if factor != 1 { rest.removeFirst() }
        // What follows is a currency word (元, 人民币, 美元), never more digits.
        guard rest.allSatisfy({ !($0.isASCII && $0.isNumber) }) else { return nil }
        return value * factor
    }

    /// `YYYY-MM-DD` from `2015-03-12`, `2015/3/12`, `2015.3.12` or `2015年3月12日`.
    public static func day(_ raw: String) -> String? {
        let parts = raw.split(whereSeparator: { "-/.年月日 ".contains($0) }).map(String.init)
        guard parts.count == 3, parts[0].count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) && $0.count <= 4 }) else {
            return nil
        }
        let text = parts[0] + "-" + (parts[1].count == 1 ? "0" : "") + parts[1] + "-" + (parts[2].count == 1 ? "0" : "") + parts[2]
        guard let p = ISO8601.parse(text, rules: .postgres), !p.hasTime, p.year == Int(parts[0]) else { return nil }
        return text
    }
}
