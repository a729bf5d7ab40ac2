/// Search tokens, derived in Swift, for a GIN-indexed `text[]` column: a record is found by any part of a
/// Chinese name or company (`伟` finds 张伟, `华信` finds 北京华信科技有限公司), by pinyin and pinyin initials
/// (`zhangwei`, `zw`), traditional or simplified, by any 4 consecutive digits of a phone, by a word's
/// start. pg_trgm cannot do this: it keeps only what the database locale calls alphanumeric (Chinese is
/// dropped under a C locale) and a query under three characters has no trigrams.
///
/// A record stores ``name(_:)``, ``phone(_:)``, ``email(_:)`` and ``text(_:)`` tokens. A query becomes
/// groups (``query(_:)``): a record matches when it holds at least one token of every group (in SQL, one
/// `tokens && $group` per group, which the GIN index answers). The caller then re-checks exactly.
public enum SearchTokens {
    /// Longest pinyin or word prefix indexed: longer queries are cut to it (and re-checked).
    static let maxPrefix = 24

    /// A person's or company's name: every Han character and Han bigram (simplified), the pinyin read
    /// from each syllable on (`zhangwei`, `wei`) and the initials likewise (`zw`, `w`), all as prefixes
    /// and in each reading of a polyphonic character (``ChineseText/pinyinVariants(_:limit:)``), and for
    /// Latin-letter names the prefixes of each word.
    public static func name(_ s: String) -> Set<String> {
        var out = Self.text(s)
        // Every reading of a polyphonic character (重置 is chongzhi, not only zhongzhi), within a bound.
        for syllables in ChineseText.pinyinVariants(s) where syllables.contains(where: { !$0.isEmpty }) {
            for start in syllables.indices {
                let rest = syllables[start...]
                Self.prefixes(of: rest.joined(), tag: "p:", into: &out)
                Self.prefixes(of: String(rest.compactMap(\.first)), tag: "i:", into: &out)
            }
        }
        return out
    }

    /// A phone in E.164: every run of 4 digits of its national number and of the whole number, so any 4
    /// or more consecutive digits, in any spelling, find it.
    public static func phone(_ e164: String) -> Set<String> {
        Set(Self.digitRuns(e164))
    }

    /// An email: the prefixes of the whole local part, of each of its words (`wang.wei` → `wang`, `wei`) and
    /// of the domain's labels.
    public static func email(_ s: String) -> Set<String> {
        var out = Set<String>()
        let lower = s.lowercased()
        let parts = lower.split(separator: "@", maxSplits: 1)
        if let local = parts.first {
            Self.prefixes(of: String(local), tag: "w:", into: &out)
            // As a query is read: without its dots, dashes and plus tags' signs.
            Self.prefixes(of: String(local.filter { $0.isLetter || $0.isNumber }), tag: "w:", into: &out)
        }
        for word in lower.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            Self.prefixes(of: String(word), tag: "w:", into: &out)
        }
        return out
    }

    /// Free text (a company, an address, an article): every Han character and bigram, simplified, and the
    /// prefixes of every Latin word or number.
    public static func text(_ s: String) -> Set<String> {
        var out = Set<String>()
        var run: [Unicode.Scalar] = []
        func flushHan() {
            for (i, c) in run.enumerated() {
                out.insert("h:" + String(Character(c)))
                if i + 1 < run.count { out.insert("hh:" + String(Character(c)) + String(Character(run[i + 1]))) }
            }
            run.removeAll()
        }
        var word = ""
        func flushWord() {
            if !word.isEmpty { Self.prefixes(of: word, tag: "w:", into: &out) }
            word = ""
        }
        for u in ChineseText.simplified(s).unicodeScalars {
            if ChineseText.isHan(u) {
                flushWord()
                run.append(u)
            } else if u.properties.isAlphabetic || ("0"..."9").contains(u) {
                flushHan()
                word.unicodeScalars.append(contentsOf: String(u).lowercased().unicodeScalars)
            } else {
                flushHan()
                flushWord()
            }
        }
        flushHan()
        flushWord()
        return out
    }

    /// One term of a query, as the tokens and the exact re-check read it.
    public enum Term: Sendable, Hashable {
        /// Han characters, simplified.
        case han(String)
        /// 4 or more digits: a phone part (or a number's start).
        case digits(String)
        /// Letters (and digits): pinyin, initials, a word's start, or a Latin name with a typo.
        case letters(String)

        var text: String {
            switch self {
            case .han(let s), .digits(let s), .letters(let s): s
            }
        }
    }

    /// The terms of a query: a query that is a phone written with spaces or signs (`+86 138 0013`) is one
    /// digits term; otherwise each whitespace-separated part, split where Han characters meet letters.
    public static func terms(_ q: String) -> [Term] {
        let phoneChars = "+-() ".unicodeScalars
        if q.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || phoneChars.contains($0) }) {
            let digits = String(q.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
            if digits.count >= 4 { return [.digits(digits)] }
        }
        var terms: [Term] = []
        for part in ChineseText.simplified(q).lowercased().split(whereSeparator: { $0.isWhitespace }) {
            var han = "", word = ""
            func flush() {
                if !han.isEmpty { terms.append(.han(han)) }
                if !word.isEmpty {
                    let isDigits = word.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
                    terms.append(isDigits && word.count >= 4 ? .digits(word) : .letters(String(word.prefix(Self.maxPrefix))))
                }
                han = ""
                word = ""
            }
            for u in part.unicodeScalars {
                if ChineseText.isHan(u) {
                    if !word.isEmpty { flush() }
                    han.unicodeScalars.append(u)
                } else if u.properties.isAlphabetic || ("0"..."9").contains(u) {
                    if !han.isEmpty { flush() }
                    word.unicodeScalars.append(u)
                }
            }
            flush()
        }
        return terms
    }

    /// The groups a record's tokens must meet, from ``terms(_:)``:
    /// - Han characters: each bigram, or the character alone;
    /// - digits: each run of 4 (or the number as a word's start);
    /// - letters: one group of alternatives, as a pinyin prefix (`zhangw`), as initials (`zw`), as a word
    ///   prefix (`wang`), and for a 4+ letter word that is not pinyin, as a Latin name one edit away.
    public static func query(_ q: String) -> [[String]] {
        var groups: [[String]] = []
        for term in Self.terms(q) {
            switch term {
            case .han(let s):
                let chars = s.map(String.init)
                if chars.count == 1 { groups.append(["h:" + chars[0]]) }
                for i in chars.indices.dropLast() { groups.append(["hh:" + chars[i] + chars[i + 1]]) }
            case .digits(let d):
                let word = "w:" + String(d.prefix(Self.maxPrefix))
                groups += Self.digitRuns(d).map { [$0, word] }
            case .letters(let w):
                groups.append(["p:" + w, "i:" + w, "w:" + w] + (Self.allowsTypo(w) ? Self.oneDeletion(w).map { "x:" + $0 } : []))
            }
        }
        return groups
    }

    /// Latin words of a name with every one-letter deletion (`x:` tokens): two words within one edit
    /// (a letter changed, added, dropped or two swapped) share one of these.
    public static func typo(_ s: String) -> Set<String> {
        var out = Set<String>()
        for w in Self.words(s) where Self.allowsTypo(w) {
            for d in Self.oneDeletion(w) { out.insert("x:" + d) }
        }
        return out
    }

    /// Typo matching is for Latin words of 4+ letters that are not pinyin: `wang` is a syllable, not a
    /// misspelled `wing`.
    static func allowsTypo(_ w: String) -> Bool {
        w.count >= 4 && w.count <= Self.maxPrefix && w.unicodeScalars.allSatisfy { ("a"..."z").contains($0) }
            && ChineseText.pinyinSegments(w) == nil
    }

    /// The word itself and the word without each one of its letters.
    static func oneDeletion(_ w: String) -> [String] {
        let c = Array(w)
        return [w] + c.indices.map { i in String(c[..<i]) + String(c[(i + 1)...]) }
    }

    /// Whether `a` and `b` are within one edit, an adjacent swap counting as one.
    static func withinOneEdit(_ a: String, _ b: String) -> Bool {
        let x = Array(a), y = Array(b)
        if x == y { return true }
        if abs(x.count - y.count) > 1 { return false }
        var i = 0
        while i < min(x.count, y.count), x[i] == y[i] { i += 1 }
        if x.count == y.count {
            if x[(i + 1)...] == y[(i + 1)...] { return true }
            return i + 1 < x.count && x[i] == y[i + 1] && x[i + 1] == y[i] && x[(i + 2)...] == y[(i + 2)...]
        }
        return x.count > y.count ? x[(i + 1)...] == y[i...] : x[i...] == y[(i + 1)...]
    }

    /// The lowercased Latin words and numbers of `s` (Han characters separate words).
    static func words(_ s: String) -> [String] {
        var out: [String] = []
        var word = ""
        for u in s.lowercased().unicodeScalars {
            if !ChineseText.isHan(u) && (u.properties.isAlphabetic || ("0"..."9").contains(u)) {
                word.unicodeScalars.append(u)
            } else if !word.isEmpty {
                out.append(word)
                word = ""
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// `d:` and every run of 4 digits of `s`, ignoring what is not a digit.
    private static func digitRuns(_ s: String) -> [String] {
        let d = Array(s.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
        guard d.count >= 4 else { return [] }
        return (0...(d.count - 4)).map { "d:" + String(d[$0..<($0 + 4)]) }
    }

    private static func prefixes(of s: String, tag: String, into out: inout Set<String>) {
        var p = ""
        for c in s.prefix(Self.maxPrefix) {
            p.append(c)
            out.insert(tag + p)
        }
    }
}
