import Testing
@testable import RapportCore

/// The engine's two halves on one record: the token index must let every right candidate through, and
/// the exact re-check must keep the right ones and say why.
struct SearchDocumentTests {
    static let doc = SearchDocument([
        .init("name", .company, "北京华信科技有限公司"),
        .init("contact", .name, "张伟"),
        .init("contact", .name, "John Smith"),
        .init("phone", .phone, "+8613800138000"),
        .init("email", .email, "wang.wei@huaxin.cn"),
        .init("address", .text, "北京市海淀区中关村大街1号"),
    ])

    static func candidate(_ query: String, _ doc: SearchDocument = Self.doc) -> Bool {
        let tokens = Set(doc.tokens)
        let groups = SearchTokens.query(query)
        return !groups.isEmpty && groups.allSatisfy { !tokens.isDisjoint(with: $0) }
    }

    @Test(arguments: [
        ("伟", SearchReason.How.contains), ("張偉", .contains), ("华信", .contains), ("zw", .initials), ("zhangwei", .pinyin),
        ("hx", .initials), ("huaxin", .pinyin), ("0013 8000", .digits), ("138-0013-8000", .digits), ("wang", .prefix),
        ("smi", .prefix), ("js", .initials), ("jonh", .typo), ("smtih", .typo), ("海淀", .contains),
    ])
    func everyKindOfQueryFindsAndExplains(_ query: String, _ how: SearchReason.How) throws {
        #expect(Self.candidate(query), "the index must let \(query) through")
        let reasons = try #require(Self.doc.match(query))
        #expect(reasons.last?.how == how)
    }

    @Test(arguments: ["华为", "李娜", "zl", "1390", "jones", "伟张", "smythe"])
    func othersAreNotFound(_ query: String) {
        #expect(!Self.candidate(query) || Self.doc.match(query) == nil)
    }

    @Test func theRecheckDropsTokensThatMeetInDifferentFields() {
        // 张伟 and 伟明 share 伟: the bigrams 张伟 and 伟明 are both indexed, 张伟明 is not there.
        let doc = SearchDocument([.init("name", .name, "张伟"), .init("company", .company, "伟明电子")])
        #expect(Self.candidate("张伟明", doc))
        #expect(doc.match("张伟明") == nil)
        #expect(doc.match("张伟 伟明")?.map(\.label) == ["name", "company"])
    }

    @Test func pinyinWordsAreNotTypos() {
        // `wang` is pinyin: it must not also find Wong.
        let doc = SearchDocument([.init("name", .name, "Peter Wong")])
        #expect(doc.match("wang") == nil)
        #expect(doc.match("petre")?.first?.how == .typo)
    }

    @Test func theTextColumnRoundTrips() {
        let doc = SearchDocument([.init("name", .name, "a\tb\nc"), .init("phone", .phone, "+8613800138000"), .init("x", .text, "")])
        let back = SearchDocument(text: doc.text)
        #expect(back.fields.count == 2)
        #expect(back.fields[0].value == "a b c")
        #expect(back.tokens == SearchDocument(text: back.text).tokens)
    }

    @Test(arguments: [("john", "jonh", true), ("smith", "smyth", true), ("smith", "smit", true), ("smith", "smiths", true),
                      ("smith", "snyth", false), ("abcd", "badc", false)])
    func oneEdit(_ a: String, _ b: String, _ near: Bool) {
        #expect(SearchTokens.withinOneEdit(a, b) == near)
        #expect(SearchTokens.withinOneEdit(b, a) == near)
    }
}

extension SearchDocumentTests {
    @Test func polyphonicCharactersAreFoundInEachReading() {
        let doc = SearchDocument([.init("title", .name, "如何重置密码")])
        for q in ["chongzhi", "zhongzhi", "rhcz", "rhzz", "mima"] {
            #expect(Self.candidate(q, doc) && doc.match(q) != nil, "\(q)")
        }
        #expect(ChineseText.pinyinVariants("如何重置").contains(["ru", "he", "chong", "zhi"]))
        // The combinations stay bounded on long text.
        #expect(ChineseText.pinyinVariants(String(repeating: "重", count: 30)).count <= 8)
    }
}
