import Testing
@testable import RapportCore

/// A query finds a record when every group of the query meets the record's tokens (what the GIN index
/// answers with one `&&` per group).
struct SearchTokensTests {
    static func finds(_ query: String, _ tokens: Set<String>) -> Bool {
        let groups = SearchTokens.query(query)
        return !groups.isEmpty && groups.allSatisfy { !tokens.isDisjoint(with: $0) }
    }

    @Test(arguments: ["张伟", "伟", "张", "張偉", "zhangwei", "zhang", "zw", "z", "wei", "w", "zhangw"])
    func aChineseNameIsFoundByAnyPartAndByPinyin(_ query: String) {
        #expect(Self.finds(query, SearchTokens.name("张伟")))
    }

    @Test(arguments: ["李娜", "zl", "lizhang", "伟张", "wz"])
    func otherNamesAndOrdersDoNotMatch(_ query: String) {
        #expect(!Self.finds(query, SearchTokens.name("张伟")))
    }

    @Test func companiesByAnyPartAndTraditionalForms() {
        let tokens = SearchTokens.name("北京华信科技有限公司")
        for q in ["华信", "北京华信", "科技", "華信", "huaxin", "bjhx", "hxkj"] { #expect(Self.finds(q, tokens), "\(q)") }
        for q in ["华为", "上海"] { #expect(!Self.finds(q, tokens), "\(q)") }
    }

    @Test func phonesByAnyFourConsecutiveDigitsInAnySpelling() {
        let tokens = SearchTokens.phone("+8613800138000")
        for q in ["0013", "1380013", "138-0013-8000", "8000", "+86 138"] { #expect(Self.finds(q, tokens), "\(q)") }
        for q in ["1390", "99999"] { #expect(!Self.finds(q, tokens), "\(q)") }
    }

    @Test func emailsByTheStartOfAnyPart() {
        let tokens = SearchTokens.email("Wang.Wei@Example.cn")
        for q in ["wang", "wei", "wang.wei", "example", "WANG"] { #expect(Self.finds(q, tokens), "\(q)") }
        #expect(!Self.finds("xample", tokens))
    }

    @Test func latinNamesByWordStartsAndInitials() {
        let tokens = SearchTokens.name("John Smith")
        for q in ["john", "smi", "john smith", "js"] { #expect(Self.finds(q, tokens), "\(q)") }
        #expect(!Self.finds("jones", tokens))
    }

    @Test func emptyAndPunctuationQueriesHaveNoGroups() {
        #expect(SearchTokens.query("").isEmpty)
        #expect(SearchTokens.query("  ,, ").isEmpty)
    }
}
