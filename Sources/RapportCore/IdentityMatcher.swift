import RapportSupport

/// A person as any channel describes them, for identity resolution.
public struct PersonRecord: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var phone: String?
    public var email: String?
    public var company: String?
    public var address: String?
    /// Digits only, `YYYYMMDD`, when known.
    public var birthDate: String?
    public var nationalID: String?
    /// Region for phone numbers written without a country code. Defaults to `CN`.
    public var phoneRegion: String

    public init(id: String, name: String? = nil, phone: String? = nil, email: String? = nil, company: String? = nil,
                address: String? = nil, birthDate: String? = nil, nationalID: String? = nil, phoneRegion: String = "CN") {
        self.id = id
        self.name = name
        self.phone = phone
        self.email = email
        self.company = company
        self.address = address
        self.birthDate = birthDate
        self.nationalID = nationalID
        self.phoneRegion = phoneRegion
    }
}

/// A record prepared once for comparing against many candidates: normalized, split into parts,
/// with its blocking keys.
public struct MatchProfile: Sendable {
    public let id: String
    /// Name after NFKC, simplification and title stripping, without spaces (CJK) or lowercased (Latin).
    let name: String?
    let phonetic: ChineseText.PhoneticName?
    /// The name was only a surname plus a title (张总, 王女士).
    let surnameOnly: Bool
    let surname: String?
    let latin: LatinName?
    let phone: String?
    let phoneIsMobile: Bool
    let email: String?
    let emailLocal: String?
    let company: CompanyName?
    let address: AddressParts?
    let birthDate: String?
    let nationalID: String?
    /// Keys under which candidates are looked up; never compared directly.
    public let blockingKeys: [String]

    public init(_ r: PersonRecord) {
        self.id = r.id
        // Name
        var surnameOnly = false
        var name: String?
        var latin: LatinName?
        if let n = Normalize.name(r.name) {
            if n.unicodeScalars.contains(where: ChineseText.isHan) {
                let stripped = ChineseText.strippingTitle(ChineseText.simplified(n))
                let compact = String(stripped.unicodeScalars.filter { ChineseText.isHan($0) || $0.properties.isAlphabetic })
                name = compact.isEmpty ? nil : compact
                if let c = name, c.unicodeScalars.count == 1 { surnameOnly = true }
                if let c = name, c.unicodeScalars.count == 2, Self.isCompoundSurname(c), stripped != n { surnameOnly = true }
            } else {
                let lower = n.lowercased()
                name = lower
                latin = LatinName(lower)
            }
        }
        self.name = name
        self.surnameOnly = surnameOnly
        self.latin = latin
        self.phonetic = name.flatMap { $0.unicodeScalars.contains(where: ChineseText.isHan) ? ChineseText.PhoneticName($0) : nil }
        if let n = name, n.unicodeScalars.contains(where: ChineseText.isHan) {
            self.surname = surnameOnly ? n : ChineseText.splitName(n)?.surname
        } else {
            self.surname = latin?.surname
        }
        // Phone: placeholders typed instead of a number identify nobody.
        let phone = Normalize.phone(r.phone, defaultRegion: r.phoneRegion)
        self.phone = phone.flatMap { Self.isPlaceholder($0) ? nil : $0 }
        self.phoneIsMobile = self.phone.map { $0.hasPrefix("+861") || !$0.hasPrefix("+86") } ?? false
        // Email: case, spaces, gmail-style dots and +tags.
        let email = Normalize.email(r.email.map { String($0.unicodeScalars.filter { !Normalize.isWhitespace($0) }) })
        self.email = email.map(Self.canonicalEmail)
        self.emailLocal = self.email.map { String($0.split(separator: "@").first ?? "") }
        self.company = Normalize.text(r.company).map { CompanyName(ChineseText.simplified($0)) }
        self.address = Normalize.text(r.address).map { AddressParts(ChineseText.simplified($0)) }
        self.birthDate = r.birthDate.map { String($0.filter(\.isNumber)) }.flatMap { $0.count == 8 ? $0 : nil }
        self.nationalID = r.nationalID.map { String($0.filter { $0.isNumber || $0.isLetter }).uppercased() }.flatMap { $0.isEmpty ? nil : $0 }

        var keys: [String] = []
        if let p = self.phone { keys.append("p:" + p) }
        if let e = self.email { keys.append("e:" + e) }
        if let l = self.emailLocal, l.count >= 5, !l.allSatisfy(\.isNumber) { keys.append("el:" + l) }
        if let id = self.nationalID { keys.append("id:" + id) }
        let place = self.address?.district ?? self.address?.city
        if let ph = self.phonetic {
            if let place { keys.append("n:" + ph.key + "|" + place) }
            if let c = self.company?.core { keys.append("nc:" + ph.key + "|" + c) }
            // Surname keys only for names that are just a surname and a title (张总): for full names they
            // gather whole departments of colleagues as candidates.
            if surnameOnly, let s = self.surname, let c = self.company?.core { keys.append("sc:" + s + "|" + c) }
            if let s = self.surname, let st = self.address?.street { keys.append("ss:" + s + "|" + st) }
        }
        if let l = self.latin {
            if let b = self.birthDate { keys.append("b:" + b) }
            keys.append("ln:" + l.surnameCode + "|" + l.givenInitial)
            keys.append("lg:" + l.givenCode + "|" + l.surnameInitial)
            if let pc = self.address?.postcode { keys.append("lp:" + pc + "|" + l.surnameInitial) }
        }
        self.blockingKeys = keys
    }

    /// About how many bytes the profile occupies, inline and on the heap, so a cache of profiles can be
    /// bounded in bytes. An estimate (strings of up to 15 UTF-8 bytes are stored inline; arrays and sets
    /// cost a header and a slot per element), scaled by 3/2 for the allocator's rounding and headers: 20,000
    /// profiles of Chinese web-form records raised the RSS by 2,020 bytes each, against 1,385 counted.
    public var approximateBytes: Int {
        func text(_ s: String?) -> Int {
            guard let n = s?.utf8.count, n > 15 else { return 0 }
            return 32 + n
        }
        var n = MemoryLayout<MatchProfile>.stride + 32 + 16 * self.blockingKeys.count
        for k in self.blockingKeys { n += text(k) }
        n += text(self.id) + text(self.name) + text(self.email) + text(self.emailLocal)
        if let c = self.company { n += text(c.full) + text(c.core) }
        if let a = self.address {
            n += text(a.city) + text(a.district) + text(a.street) + text(a.building) + text(a.room)
            n += 64 + a.tokens.reduce(0) { $0 + 24 + text($1) }
        }
        // A phonetic name: two strings and one or two readings, each a few small arrays of syllables.
        if let ph = self.phonetic { n += text(ph.normalized) + text(ph.key) + 48 + 240 * ph.orderingCount }
        return n * 3 / 2
    }

    static func isPlaceholder(_ e164: String) -> Bool {
        let digits = e164.dropFirst(e164.hasPrefix("+86") ? 3 : 1)
        if Set(digits.dropFirst()).count <= 1 { return true }  // 13888888888, 00000000000
        return ["13800138000", "12345678901", "13912345678", "18888888888", "13000000000"].contains(String(digits))
    }

    static func canonicalEmail(_ e: String) -> String {
        let parts = e.split(separator: "@", maxSplits: 1)
        guard parts.count == 2 else { return e }
        var local = String(parts[0])
        let domain = String(parts[1])
        if ["gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com"].contains(domain) {
            if let plus = local.firstIndex(of: "+") { local = String(local[..<plus]) }
            if domain.hasPrefix("gmail") || domain.hasPrefix("googlemail") { local.removeAll { $0 == "." } }
        }
        return local + "@" + domain
    }

    static let compoundSurnames: Set<String> = ["欧阳", "司马", "诸葛", "上官", "尉迟", "东方", "慕容", "夏侯", "皇甫", "令狐", "司徒", "公孙"]
    static func isCompoundSurname(_ s: String) -> Bool { Self.compoundSurnames.contains(s) }
}

/// How one field of a pair compared, and what it added to the score.
public struct MatchReason: Sendable, Hashable, CustomStringConvertible {
    public init(field: String, level: String, weight: Double) {
        self.field = field
        self.level = level
        self.weight = weight
    }

    public var field: String
    public var level: String
    public var weight: Double
    public var description: String { "\(self.field)=\(self.level)(\(self.weight >= 0 ? "+" : "")\(self.weight))" }
}

/// A scored comparison of two records.
public struct MatchScore: Sendable {
    public var score: Double
    public var reasons: [MatchReason]
}

/// Compares prepared records field by field and adds evidence, Fellegi–Sunter style: agreement on a
/// rare, identifying value adds much, disagreement where people rarely change a value subtracts.
/// The weights were set against the labelled development sets (bench: `rapport-bench match`).
public struct IdentityMatcher: Sendable {
    /// At or above: the same person. Defaults to `5.5`.
    public var matchThreshold: Double = 5.5
    /// At or above (and below the match threshold): a possible duplicate for review. Defaults to `3`.
    public var reviewThreshold: Double = 3

    public init() {}

    public func compare(_ a: MatchProfile, _ b: MatchProfile) -> MatchScore {
        var reasons: [MatchReason] = []
        func add(_ field: String, _ level: String, _ w: Double) { reasons.append(.init(field: field, level: level, weight: w)) }

        // Phone
        if let pa = a.phone, let pb = b.phone {
            if pa == pb {
                // A landline may be a company switchboard shared by colleagues.
                if a.phoneIsMobile { add("phone", "exact", 7) } else { add("phone", "exact_landline", 2.5) }
            } else if Self.oneEdit(pa, pb) {
                if a.phoneIsMobile && b.phoneIsMobile { add("phone", "one_edit", 3) } else { add("phone", "one_edit_landline", 1.5) }
            } else {
                add("phone", "different", -1)
            }
        }
        // Email
        if let ea = a.email, let eb = b.email {
            if ea == eb { add("email", "exact", 7) }
            else if let la = a.emailLocal, la == b.emailLocal, la.count >= 5, !la.allSatisfy(\.isNumber) { add("email", "same_local", 3) }
            else { add("email", "different", -1) }
        }
        // National id and birth date (strong where present)
        if let ia = a.nationalID, let ib = b.nationalID {
            if ia == ib { add("national_id", "exact", 8) }
            else if Self.oneEdit(ia, ib) { add("national_id", "one_edit", 3) }
            else { add("national_id", "different", -2) }
        }
        if let ba = a.birthDate, let bb = b.birthDate {
            if ba == bb { add("birth_date", "exact", 4) }
            else if Self.oneEdit(ba, bb) || Self.transposedDayMonth(ba, bb) { add("birth_date", "near", 1) }
            else { add("birth_date", "different", -3) }
        }
        // Name
        self.compareNames(a, b, add)
        // Company
        if let ca = a.company, let cb = b.company {
            if let x = ca.core, let y = cb.core, x == y || (min(x.count, y.count) >= 2 && (x.hasPrefix(y) || y.hasPrefix(x))) {
                add("company", "same_core", 1.5)
            } else {
                add("company", "different", -1.5)
            }
        }
        // Address
        if let xa = a.address, let xb = b.address {
            let (level, w) = xa.compare(xb)
            add("address", level, w)
        }
        return MatchScore(score: reasons.reduce(0) { $0 + $1.weight }, reasons: reasons)
    }

    private func compareNames(_ a: MatchProfile, _ b: MatchProfile, _ add: (String, String, Double) -> Void) {
        guard let na = a.name, let nb = b.name else { return }
        if let la = a.latin, let lb = b.latin {
            // Per part, straight or swapped: a typo in one part, or one part replaced, still leaves evidence.
            let (g, s) = la.partSimilarities(lb)
            let close = [g, s].filter { $0 >= 0.88 }.count
            let exact = [g, s].filter { $0 >= 0.999 }.count
            if exact == 2 { add("name", "exact", 4) }
            else if close == 2 { add("name", "close", 3) }
            else if exact == 1 || close == 1 { add("name", "one_part", 0.5) }
            else { add("name", "different", -3) }
            return
        }
        if a.surnameOnly || b.surnameOnly {
            // 张总 vs 张伟: only the surname can agree.
            if let sa = a.surname, let sb = b.surname, Self.samePinyin(sa, sb) { add("name", "surname_only", 0.5) }
            else { add("name", "different_surname", -4) }
            return
        }
        if na == nb { add("name", "exact", 3); return }
        guard let pa = a.phonetic, let pb = b.phonetic else { add("name", "different", -3); return }
        let s = pa.similarity(to: pb)
        if s >= 0.85 { add("name", "sounds_same", 2.5) }
        else if s >= 0.7 { add("name", "fuzzy_pinyin", 1) }
        else if s >= 0.6 { add("name", "one_syllable", -1) }
        else { add("name", "different", -4) }
    }

    static func samePinyin(_ a: String, _ b: String) -> Bool {
        a == b || ChineseText.pinyinKey(a) == ChineseText.pinyinKey(b)
    }

    /// One substitution, or two adjacent characters swapped.
    static func oneEdit(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        let diff = (0..<x.count).filter { x[$0] != y[$0] }
        if diff.count == 1 { return true }
        if diff.count == 2, diff[1] == diff[0] + 1, x[diff[0]] == y[diff[1]], x[diff[1]] == y[diff[0]] { return true }
        return false
    }

    static func transposedDayMonth(_ a: String, _ b: String) -> Bool {
        let x = Array(a), y = Array(b)
        guard x.count == 8, y.count == 8 else { return false }
        return x[0..<4] == y[0..<4] && x[4..<6] == y[6..<8] && x[6..<8] == y[4..<6]
    }
}

/// Finds candidate pairs through shared blocking keys, scores them and closes matches into clusters.
public struct IdentityClusterer: Sendable {
    public var matcher = IdentityMatcher()
    /// Blocks larger than this are too common to mean anything (a placeholder value) and are skipped.
    public var maxBlockSize = 60

    public init() {}

    public struct Result: Sendable {
        /// Cluster id (the smallest member's index) per record, in input order.
        public var clusterOf: [Int]
        /// Matched pairs (indices) with their scores.
        public var matches: [(Int, Int, MatchScore)]
        public var candidatePairs: Int
    }

    public func cluster(_ profiles: [MatchProfile]) -> Result {
        var blocks: [String: [Int]] = [:]
        for (i, p) in profiles.enumerated() {
            for k in Set(p.blockingKeys) { blocks[k, default: []].append(i) }
        }
        var seen = Set<Int64>()
        var matches: [(Int, Int, MatchScore)] = []
        for (_, members) in blocks where members.count > 1 && members.count <= self.maxBlockSize {
            for x in 0..<members.count {
                for y in (x + 1)..<members.count {
                    let (i, j) = (members[x], members[y])
                    guard seen.insert(Int64(i) << 32 | Int64(j)).inserted else { continue }
                    let s = self.matcher.compare(profiles[i], profiles[j])
                    if s.score >= self.matcher.matchThreshold { matches.append((i, j, s)) }
                }
            }
        }
        var parent = Array(0..<profiles.count)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for (i, j, _) in matches.sorted(by: { $0.2.score > $1.2.score }) {
            let (ri, rj) = (find(i), find(j))
            if ri != rj { parent[max(ri, rj)] = min(ri, rj) }
        }
        return Result(clusterOf: profiles.indices.map(find), matches: matches, candidatePairs: seen.count)
    }
}
