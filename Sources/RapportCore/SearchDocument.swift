import Foundation
/// What a record offers the search engine: its searchable fields, the tokens they index (the
/// `search_tokens` column) and the same fields as text (the `search_text` column), which the engine
/// re-reads to re-check a candidate exactly and to say why it matched.
public struct SearchDocument: Sendable, Hashable {
    /// How a field is tokenized and re-checked.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A person's name: characters, bigrams, pinyin and initials, Latin words with one typo.
        case name
        /// A company's name: characters and bigrams of the whole; pinyin and initials of its core
        /// (华信 of 北京华信科技有限公司), so `hx` finds it without every syllable of 有限公司.
        case company
        case phone
        case email
        /// Anything else (an address, a title, an article): characters, bigrams and word prefixes.
        case text
    }

    public struct Field: Sendable, Hashable {
        /// What the field is, as results name it: `name`, `contact`, `phone`, `company`…
        public var label: String
        public var kind: Kind
        public var value: String

        public init(_ label: String, _ kind: Kind, _ value: String) {
            self.label = label
            self.kind = kind
            self.value = value
        }
    }

    public var fields: [Field]

    public init(_ fields: [Field]) {
        self.fields = fields.filter { !$0.value.isEmpty }
    }

    /// Reads the `search_text` column back.
    public init(text: String) {
        self.fields = text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let kind = Kind(rawValue: String(parts[1])) else { return nil }
            return Field(String(parts[0]), kind, String(parts[2]))
        }
    }

    /// `label<TAB>kind<TAB>value` lines; tabs and line breaks inside values become spaces.
    public var text: String {
        self.fields.map { f in
            let value = String(f.value.map { $0 == "\t" || $0.isNewline ? " " : $0 })
            return "\(f.label)\t\(f.kind.rawValue)\t\(value)"
        }.joined(separator: "\n")
    }

    /// Every token of every field, sorted (a stable column value).
    public var tokens: [String] {
        var out = Set<String>()
        for f in self.fields {
            switch f.kind {
            case .name:
                out.formUnion(SearchTokens.name(f.value))
                out.formUnion(SearchTokens.typo(f.value))
            case .company:
                out.formUnion(SearchTokens.text(f.value))
                if let core = CompanyName(f.value).core { out.formUnion(SearchTokens.name(core)) }
            case .phone: out.formUnion(SearchTokens.phone(f.value))
            case .email: out.formUnion(SearchTokens.email(f.value))
            case .text: out.formUnion(SearchTokens.text(f.value))
            }
        }
        return out.sorted()
    }
}

/// Why a record matched one term of a query, as results explain it.
public struct SearchReason: Sendable, Hashable, CustomStringConvertible {
    public enum How: String, Sendable, Hashable {
        /// The characters appear in the field (伟 in 张伟; traditional or simplified).
        case contains
        /// The term is the pinyin of the field from one of its syllables on (`zhangwei`, `wei`).
        case pinyin
        /// The term is the pinyin initials from one of its syllables on (`zw`).
        case initials
        /// A word of the field starts with the term.
        case prefix
        /// The digits appear in the phone.
        case digits
        /// A Latin word of the name is one edit from the term (`jonh` → John).
        case typo
    }

    public var term: String
    public var label: String
    public var value: String
    public var how: How

    public var description: String { "\(self.label) \(self.excerpt) (\(self.how.rawValue) \"\(self.term)\")" }

    /// The value, cut to 60 characters around the first place the term appears (an article's body is long).
    public var excerpt: String {
        guard self.value.count > 60 else { return self.value }
        let simplified = ChineseText.simplified(self.value)
        let at = simplified.range(of: self.term).map { simplified.distance(from: simplified.startIndex, to: $0.lowerBound) } ?? 0
        let start = max(0, at - 20)
        let chars = Array(self.value)
        return (start > 0 ? "…" : "") + String(chars[start..<min(chars.count, start + 60)]) + (start + 60 < chars.count ? "…" : "")
    }
}

extension SearchDocument {
    /// The exact re-check of a candidate the token index returned: one reason per query term, or `nil`
    /// when some term matches no field (the tokens can meet in different fields or out of order).
    /// Reasons are tried from the most to the least exact, so a typo is named only when nothing else fits.
    public func match(_ query: String) -> [SearchReason]? {
        let terms = SearchTokens.terms(query)
        guard !terms.isEmpty else { return [] }
        var reasons: [SearchReason] = []
        for term in terms {
            guard let r = self.match(term) else { return nil }
            reasons.append(r)
        }
        return reasons
    }

    private func match(_ term: SearchTokens.Term) -> SearchReason? {
        func reason(_ f: Field, _ how: SearchReason.How) -> SearchReason {
            SearchReason(term: term.text, label: f.label, value: f.value, how: how)
        }
        switch term {
        case .han(let chars):
            return self.fields.first { $0.kind != .phone && ChineseText.simplified($0.value).contains(chars) }.map { reason($0, .contains) }
        case .digits(let digits):
            if let f = self.fields.first(where: { $0.kind == .phone && $0.value.filter(\.isNumber).contains(digits) }) {
                return reason(f, .digits)
            }
            return self.fields.first { SearchTokens.words($0.value).contains { $0.hasPrefix(digits) } }.map { reason($0, .prefix) }
        case .letters(let word):
            for f in self.fields where f.kind == .name || f.kind == .company {
                let source = f.kind == .company ? (CompanyName(f.value).core ?? "") : f.value
                // A Latin name's "pinyin" is its words: those matches are word prefixes, below; initials count.
                let han = source.unicodeScalars.contains(where: ChineseText.isHan)
                for syllables in ChineseText.pinyinVariants(source) {
                    for start in syllables.indices {
                        let rest = syllables[start...]
                        if han && rest.joined().hasPrefix(word) { return reason(f, .pinyin) }
                        if String(rest.compactMap(\.first)).hasPrefix(word) && (han || word.count > 1) { return reason(f, .initials) }
                    }
                }
            }
            for f in self.fields {
                let words = SearchTokens.words(f.value)
                let squeezed = f.kind == .email ? [String(f.value.lowercased().prefix { $0 != "@" }.filter { $0.isLetter || $0.isNumber })] : []
                if (words + squeezed).contains(where: { $0.hasPrefix(word) }) { return reason(f, .prefix) }
            }
            guard SearchTokens.allowsTypo(word) else { return nil }
            for f in self.fields where f.kind == .name {
                if SearchTokens.words(f.value).contains(where: { SearchTokens.withinOneEdit($0, word) }) { return reason(f, .typo) }
            }
            return nil
        }
    }
}
