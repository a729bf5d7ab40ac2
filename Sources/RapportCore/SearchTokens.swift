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
    /// from each syllable on (`zhangwei`, `wei`) and the initials likewise (`zw`, `w`), all as prefixes,
    /// and for Latin-letter names the prefixes of each word.
    public static func name(_ s: String) -> Set<String> {
        var out = Self.text(s)
        let syllables = ChineseText.pinyinSyllables(s)
        guard syllables.contains(where: { !$0.isEmpty }) else { return out }
        for start in syllables.indices {
            let rest = syllables[start...]
            Self.prefixes(of: rest.joined(), tag: "p:", into: &out)
            Self.prefixes(of: String(rest.compactMap(\.first)), tag: "i:", into: &out)
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

    /// The groups a record's tokens must meet, one or more per whitespace-separated term:
    /// - Han characters (simplified): each bigram, or the character alone;
    /// - 4 or more digits (a phone part, also when the whole query is a phone written with spaces): each run
    ///   of 4; fewer digits: a word prefix;
    /// - letters: one group of alternatives, as a pinyin prefix (`zhangw`), as initials (`zw`) or as
    ///   a word prefix (`wang`); a term longer than ``maxPrefix`` is cut.
    public static func query(_ q: String) -> [[String]] {
        var groups: [[String]] = []
        // A phone typed with spaces ("+86 138 0013") is one term.
        let phoneChars = "+-() ".unicodeScalars
        if q.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || phoneChars.contains($0) }) {
            let runs = Self.digitRuns(q)
            if !runs.isEmpty { return runs.map { [$0] } }
        }
        for term in ChineseText.simplified(q).lowercased().split(whereSeparator: { $0.isWhitespace }) {
            let han = term.unicodeScalars.filter(ChineseText.isHan)
            let digits = String(term.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
            if !han.isEmpty {
                let chars = han.map { String(Character($0)) }
                if chars.count == 1 { groups.append(["h:" + chars[0]]) }
                for i in chars.indices.dropLast() { groups.append(["hh:" + chars[i] + chars[i + 1]]) }
            } else if digits.count >= 4, term.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || phoneChars.contains($0) }) {
                groups += Self.digitRuns(String(term)).map { [$0] }
            } else {
                let word = String(String(term.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }).prefix(Self.maxPrefix))
                guard !word.isEmpty else { continue }
                groups.append(["p:" + word, "i:" + word, "w:" + word])
            }
        }
        return groups
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
