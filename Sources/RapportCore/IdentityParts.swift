import RapportSupport
import Foundation

/// A company name reduced to its distinctive core: 北京华信科技有限公司, 华信科技(北京)有限公司 and 华信 all
/// have the core 华信.
struct CompanyName: Sendable, Hashable {
    let full: String
    let core: String?

    static let regions: [String] = [
        "北京", "上海", "天津", "重庆", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "青岛", "厦门",
        "宁波", "无锡", "佛山", "东莞", "长沙", "郑州", "济南", "合肥", "福州", "昆明", "大连", "沈阳", "哈尔滨", "长春",
        "石家庄", "太原", "南昌", "南宁", "贵阳", "兰州", "海口", "珠海", "温州", "绍兴", "嘉兴", "常州", "烟台",
        "广东", "浙江", "江苏", "山东", "河南", "河北", "湖南", "湖北", "四川", "福建", "安徽", "辽宁", "吉林", "黑龙江",
        "陕西", "山西", "江西", "广西", "云南", "贵州", "甘肃", "海南", "内蒙古", "新疆", "西藏", "宁夏", "青海", "香港", "澳门",
    ]
    static let provinces: [String] = [
        "北京", "上海", "天津", "重庆", "广东", "浙江", "江苏", "山东", "河南", "河北", "湖南", "湖北", "四川", "福建",
        "安徽", "辽宁", "吉林", "黑龙江", "陕西", "山西", "江西", "广西", "云南", "贵州", "甘肃", "海南", "内蒙古", "新疆",
        "西藏", "宁夏", "青海",
    ]
    static let cities: [String] = Self.regions.filter { !Self.provinces.contains($0) }
    static let suffixes: [String] = [
        "股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "分公司", "集团", "公司",
        " co., ltd.", " co., ltd", " co.,ltd", " co. ltd", " company limited", " limited", " ltd.", " ltd", " inc.", " inc",
        " llc", " corp.", " corporation", " co.",
    ]
    static let industries: [String] = [
        "信息技术", "信息科技", "网络科技", "电子商务", "医疗器械", "建筑工程", "文化传媒", "科技发展", "软件开发", "国际贸易",
        "物流", "科技", "信息", "网络", "软件", "电子", "贸易", "咨询", "传媒", "文化", "教育", "餐饮", "实业", "投资",
        "管理", "服务", "技术", "发展", "食品", "医药", "医疗", "生物", "建筑", "工程", "装饰", "设计", "广告", "商贸",
        "机械", "设备", "新能源", "能源", "环保", "汽车", "物业", "房地产", "置业", "金融", "数据", "智能", "通信", "化工",
    ]

    private static func scalars(_ list: [String]) -> [[Unicode.Scalar]] {
        list.map { Array($0.unicodeScalars) }.sorted { $0.count > $1.count }
    }
    private static let suffixScalars = Self.scalars(Self.suffixes)
    private static let regionScalars = Self.scalars(Self.regions)
    private static let industryScalars = Self.scalars(Self.industries)

    // Works on scalar arrays: String suffix tests per word were most of a profile's cost.
    init(_ raw: String) {
        let lower = raw.lowercased()
        self.full = lower
        var s: [Unicode.Scalar] = []
        s.reserveCapacity(lower.unicodeScalars.count)
        var depth = 0
        // Parenthesised parts are regions or branch notes: 华信科技(北京)有限公司.
        for c in lower.unicodeScalars {
            switch c {
            case "(", "（": depth += 1
            case ")", "）": depth = max(0, depth - 1)
            default: if depth == 0 { s.append(c) }
            }
        }
        func strip(_ words: [[Unicode.Scalar]], keep: Int) {
            var changed = true
            while changed {
                changed = false
                for w in words where s.count > w.count + keep && s.suffix(w.count).elementsEqual(w) {
                    s.removeLast(w.count)
                    changed = true
                }
            }
        }
        strip(Self.suffixScalars, keep: 0)
        for r in Self.regionScalars where s.count > r.count + 1 && s.prefix(r.count).elementsEqual(r) {
            s.removeFirst(r.count)
            if s.first == "市" || s.first == "省" { s.removeFirst() }
            break
        }
        strip(Self.industryScalars, keep: 1)
        while s.first?.properties.isWhitespace == true { s.removeFirst() }
        while s.last?.properties.isWhitespace == true { s.removeLast() }
        var core = ""
        core.unicodeScalars.append(contentsOf: s)
        self.core = core.isEmpty ? nil : core
    }
}

/// A postal address split into comparable parts. Chinese addresses: province, city, district, street and
/// number (the part that survives abbreviation), and the rest (building, floor, room). Latin addresses:
/// word tokens and a postcode.
struct AddressParts: Sendable, Hashable {
    var city: String?
    var district: String?
    var street: String?
    var building: String?
    var room: String?
    var tokens: Set<String> = []
    var postcode: String?
    let isHan: Bool

    private static let autonomousRegion = Array("自治区".unicodeScalars)
    private static let province = Array("省".unicodeScalars)
    private static let municipalities = ["北京", "上海", "天津", "重庆"].map { Array($0.unicodeScalars) }
    private static let provinces = CompanyName.provinces.map { Array($0.unicodeScalars) }
    private static let cities = CompanyName.cities.map { Array($0.unicodeScalars) }

    init(_ raw: String) {
        self.isHan = raw.unicodeScalars.contains(where: ChineseText.isHan)
        guard self.isHan else {
            let words = raw.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
            self.tokens = Set(words)
            self.postcode = words.last { $0.count == 4 && $0.allSatisfy(\.isNumber) }
            return
        }
        // Parsed as scalars, not Characters: the text is NFKC and CJK, where the two coincide, and grapheme
        // breaking made this the costliest step of profiling a record.
        var u: [Unicode.Scalar] = []
        u.reserveCapacity(raw.unicodeScalars.count)
        for c in raw.unicodeScalars where !Normalize.isWhitespace(c) { u.append(c == "號" || c == "#" ? "号" : c) }
        func text(_ r: Range<Int>) -> String { String(String.UnicodeScalarView(u[r])) }
        func starts(with p: [Unicode.Scalar], at i: Int) -> Bool { u.count - i >= p.count && u[i..<(i + p.count)].elementsEqual(p) }
        func find(_ p: [Unicode.Scalar], from i: Int) -> Int? {
            guard u.count - i >= p.count else { return nil }
            return (i...(u.count - p.count)).first { starts(with: p, at: $0) }
        }
        var i = 0
        // Province (may be absent), then a municipality or city.
        if let r = find(Self.autonomousRegion, from: i) {
            if r - i <= 4 { i = r + Self.autonomousRegion.count }
        } else if let r = find(Self.province, from: i), r - i <= 4 {
            i = r + 1
        }
        // The same without 省 ("江苏苏州市…").
        for p in Self.provinces where starts(with: p, at: i) && !Self.municipalities.contains(p) {
            i += p.count
            break
        }
        for m in Self.municipalities where starts(with: m, at: i) {
            self.city = text(i..<(i + m.count))
            i += m.count
            if i < u.count && u[i] == "市" { i += 1 }
        }
        if self.city == nil, let r = find(["市"], from: i), r - i <= 4, r - i >= 2 {
            self.city = text(i..<r)
            i = r + 1
        }
        // A known city written without 市 ("深圳宝安区").
        if self.city == nil, let c = Self.cities.first(where: { starts(with: $0, at: i) }) {
            self.city = text(i..<(i + c.count))
            i += c.count
        }
        if let r = u[i...].firstIndex(where: { $0 == "区" || $0 == "县" }), r - i <= 5 {
            var d = text(i..<(r + 1))
            // "佛山南海区" (市 dropped): a known city glued to the district.
            if self.city == nil, d.count >= 5 { d = String(d.suffix(3)) }
            self.district = d
            i = r + 1
        }
        if let r = u[i...].firstIndex(of: "号") {
            self.street = text(i..<(r + 1))
            i = r + 1
        }
        // Building then room: "腾合大厦2504室", "5号楼2004室", "15幢2209室", "11F".
        var tail = text(i..<u.count)
        tail.unicodeScalars.removeAll { $0 == "室" }
        let digitsAtEnd = tail.reversed().prefix(while: \.isNumber)
        if !digitsAtEnd.isEmpty {
            self.room = String(digitsAtEnd.reversed())
            let b = String(tail.dropLast(digitsAtEnd.count))
            self.building = b.isEmpty ? nil : b
        } else if !tail.isEmpty {
            self.building = tail
        }
    }

    static func mongeElkan(_ a: Set<String>, _ b: Set<String>) -> Double {
        let joinedB = b.sorted().joined()
        var total = 0.0
        for x in a {
            var best = b.map { LatinName.jaroWinkler(x, $0) }.max() ?? 0
            if best < 0.9, x.count >= 6, joinedB.contains(x) { best = 0.9 }
            total += best
        }
        return total / Double(max(1, a.count))
    }

    /// A level and a weight for the pair.
    func compare(_ o: AddressParts) -> (String, Double) {
        if !self.isHan || !o.isHan {
            guard !self.tokens.isEmpty, !o.tokens.isEmpty else { return ("missing", 0) }
            // Monge-Elkan with Jaro-Winkler: typos and run-together words ("marstonplace") still count.
            let m = (Self.mongeElkan(self.tokens, o.tokens) + Self.mongeElkan(o.tokens, self.tokens)) / 2
            if m >= 0.93 { return ("same", 3) }
            if m >= 0.8 { return ("similar", 1.5) }
            if m >= 0.6 { return ("partial", 0) }
            return ("different", -1.5)
        }
        let placeClash = (self.city != nil && o.city != nil && self.city != o.city)
            || (self.district != nil && o.district != nil && self.district != o.district)
        guard let s1 = self.street, let s2 = o.street else {
            return placeClash ? ("different_place", -1.5) : ("partial", 0)
        }
        if s1 == s2 && !placeClash {
            if self.building == o.building && self.room == o.room && self.room != nil { return ("same_room", 4) }
            if self.room != nil && o.room != nil && self.room != o.room { return ("same_street_other_room", 1) }
            return ("same_street", 2)
        }
        return placeClash ? ("different_place", -2) : ("different_street", -1)
    }
}

/// A Latin-script name: given name and surname, with phonetic codes for blocking.
struct LatinName: Sendable, Hashable {
    let given: String
    let surname: String

    init(_ lower: String) {
        let words = lower.split(whereSeparator: { !$0.isLetter }).map(String.init)
        self.given = words.count > 1 ? words[0] : ""
        self.surname = words.last ?? ""
    }

    var givenInitial: String { String(self.given.prefix(1)) }
    var surnameInitial: String { String(self.surname.prefix(1)) }
    var givenCode: String { Self.soundex(self.given) }
    var surnameCode: String { Self.soundex(self.surname) }

    /// Jaro-Winkler of given names and of surnames, in the order (straight or swapped) that fits best.
    func partSimilarities(_ o: LatinName) -> (given: Double, surname: Double) {
        let straight = (Self.jaroWinkler(self.given, o.given), Self.jaroWinkler(self.surname, o.surname))
        let swapped = (Self.jaroWinkler(self.given, o.surname), Self.jaroWinkler(self.surname, o.given))
        return straight.0 + straight.1 >= swapped.0 + swapped.1 ? straight : swapped
    }

    func similarity(_ o: LatinName) -> Double {
        let straight = (Self.jaroWinkler(self.given, o.given) + Self.jaroWinkler(self.surname, o.surname)) / 2
        let swapped = (Self.jaroWinkler(self.given, o.surname) + Self.jaroWinkler(self.surname, o.given)) / 2
        // A missing part: judge on the other alone, a little lower.
        if self.given.isEmpty || o.given.isEmpty { return Self.jaroWinkler(self.surname, o.surname) * 0.95 }
        return max(straight, swapped - 0.02)
    }

    static func soundex(_ s: String) -> String {
        guard let first = s.first else { return "" }
        func code(_ c: Character) -> Character? {
            switch c {
            case "b", "f", "p", "v": return "1"
            case "c", "g", "j", "k", "q", "s", "x", "z": return "2"
            case "d", "t": return "3"
            case "l": return "4"
            case "m", "n": return "5"
            case "r": return "6"
            default: return nil
            }
        }
        var out = String(first)
        var last = code(first)
        for c in s.dropFirst() {
            let k = code(c)
            if let k, k != last { out.append(k) }
            if c != "h" && c != "w" { last = k }
            if out.count == 4 { break }
        }
        return out.padding(toLength: 4, withPad: "0", startingAt: 0)
    }

    static func jaroWinkler(_ a: String, _ b: String) -> Double {
        let x = Array(a.utf8), y = Array(b.utf8)
        if x.isEmpty || y.isEmpty { return 0 }
        if x == y { return 1 }
        let window = max(0, max(x.count, y.count) / 2 - 1)
        var mx = [Bool](repeating: false, count: x.count), my = [Bool](repeating: false, count: y.count)
        var m = 0
        for i in 0..<x.count {
            let lo = max(0, i - window), hi = min(y.count - 1, i + window)
            if lo > hi { continue }
            for j in lo...hi where !my[j] && x[i] == y[j] {
                mx[i] = true
                my[j] = true
                m += 1
                break
            }
        }
        if m == 0 { return 0 }
        var t = 0, k = 0
        for i in 0..<x.count where mx[i] {
            while !my[k] { k += 1 }
            if x[i] != y[k] { t += 1 }
            k += 1
        }
        let md = Double(m)
        let jaro = (md / Double(x.count) + md / Double(y.count) + (md - Double(t) / 2) / md) / 3
        var prefix = 0
        while prefix < min(4, x.count, y.count), x[prefix] == y[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.unicodeScalars.drop(while: { $0.properties.isWhitespace }).reversed()
            .drop(while: { $0.properties.isWhitespace }).reversed().map(Character.init))
    }
}
