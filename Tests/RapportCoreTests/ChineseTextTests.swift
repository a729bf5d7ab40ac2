import Foundation
import Testing

@testable import RapportCore

@Suite struct ChineseTextTests {
    // MARK: Simplification

    @Test func simplifiesTraditionalCharacters() {
        #expect(ChineseText.simplified("張偉") == "张伟")
        #expect(ChineseText.simplified("劉德華") == "刘德华")
        #expect(ChineseText.simplified("陳") == "陈")
        #expect(ChineseText.simplified("鄭") == "郑")
        #expect(ChineseText.simplified("黃") == "黄")
        #expect(ChineseText.simplified("歐陽娜娜") == "欧阳娜娜")
        #expect(ChineseText.simplified("衞") == "卫")  // Hong Kong variant, through OpenCC's hk2s chain
    }

    @Test func leavesEverythingElseAlone() {
        #expect(ChineseText.simplified("张伟") == "张伟")
        #expect(ChineseText.simplified("Zhang Wei 張 (经理) 138") == "Zhang Wei 张 (经理) 138")
        #expect(ChineseText.simplified("") == "")
    }

    @Test func recognisesHanScalars() {
        #expect(ChineseText.isHan("张"))
        #expect(ChineseText.isHan("㐀"))  // Extension A
        #expect(ChineseText.isHan("𫖯"))  // Extension E
        #expect(ChineseText.isHan("〇"))
        #expect(!ChineseText.isHan("a"))
        #expect(!ChineseText.isHan("、"))
        #expect(!ChineseText.isHan("　"))
        #expect(!ChineseText.isHan("あ"))
    }

    // MARK: Pinyin

    @Test func pinyinOfCharacters() {
        #expect(ChineseText.pinyinSyllables("张伟") == ["zhang", "wei"])
        #expect(ChineseText.pinyinSyllables("張偉") == ["zhang", "wei"])
        #expect(ChineseText.pinyinSyllables("绿") == ["lv"])
        #expect(ChineseText.pinyinSyllables("女") == ["nv"])
        #expect(ChineseText.pinyinSyllables("略") == ["lve"])
        #expect(ChineseText.pinyinSyllables("王 玉梅") == ["wang", "yu", "mei"])
        #expect(ChineseText.pinyinSyllables("刘\u{3000}军") == ["liu", "jun"])
    }

    @Test func pinyinOfLatinText() {
        #expect(ChineseText.pinyinSyllables("Zhang Wei") == ["zhang", "wei"])
        #expect(ChineseText.pinyinSyllables("zhangwei") == ["zhangwei"])
        #expect(ChineseText.pinyinSyllables("Lǚ Xiǎo-Míng") == ["lv", "xiao", "ming"])
        #expect(ChineseText.pinyinSyllables("Lu\u{0308}") == ["lv"])  // decomposed ü
        #expect(ChineseText.pinyinSyllables("ＺＨＡＮＧ　ｗｅｉ") == ["zhang", "wei"])  // full-width
        #expect(ChineseText.pinyinSyllables("xi'an, 2024!") == ["xi", "an", "2024"])
        #expect(ChineseText.pinyinSyllables("张Wei") == ["zhang", "wei"])
        #expect(ChineseText.pinyinSyllables("  ,. ") == [])
    }

    @Test func readingsListTheCommonOneFirst() {
        #expect(ChineseText.pinyinReadings("单") == ["dan", "chan", "shan"])
        #expect(ChineseText.pinyinReadings("曾").first == "ceng")
        #expect(ChineseText.pinyinReadings("長") == ChineseText.pinyinReadings("长"))
        #expect(ChineseText.pinyinReadings("頫") == ChineseText.pinyinReadings("𫖯"))  // simplified outside the BMP
        #expect(ChineseText.pinyinReadings("𫖯").first == "fu")
        #expect(ChineseText.pinyinReadings("䶮").first == "yan")  // Extension A, as in 刘䶮
        #expect(ChineseText.pinyinReadings("a") == [])
        #expect(ChineseText.pinyinReadings("行").count <= 4)
    }

    @Test func surnamesUseTheirSurnameReading() {
        #expect(ChineseText.pinyinKey("单田芳") == "shantianfang")
        #expect(ChineseText.pinyinKey("曾国藩") == "zengguofan")
        #expect(ChineseText.pinyinKey("解缙") == "xiejin")
        #expect(ChineseText.pinyinKey("仇英") == "qiuying")
        #expect(ChineseText.pinyinKey("朴槿惠") == "piaojinhui")
        #expect(ChineseText.pinyinKey("區") == "ou")
        // Only as the first character: elsewhere the common reading.
        #expect(ChineseText.pinyinKey("王单") == "wangdan")
        #expect(ChineseText.pinyinSyllables("单田芳") == ["dan", "tian", "fang"])
    }

    @Test func compoundSurnamesStayTogether() {
        #expect(ChineseText.pinyinKey("欧阳娜娜") == "ouyangnana")
        #expect(ChineseText.pinyinKey("歐陽娜娜") == "ouyangnana")
        #expect(ChineseText.pinyinKey("尉迟恭") == "yuchigong")
        #expect(ChineseText.pinyinKey("万俟卨") == "moqixie")
        #expect(ChineseText.pinyinKey("长孙无忌") == "zhangsunwuji")
        #expect(ChineseText.splitName("欧阳娜娜")! == ("欧阳", "娜娜"))
        #expect(ChineseText.splitName("諸葛 亮")! == ("诸葛", "亮"))
        #expect(ChineseText.splitName("张伟")! == ("张", "伟"))
        #expect(ChineseText.splitName("张")! == ("张", ""))
        #expect(ChineseText.splitName("Zhang Wei") == nil)
        #expect(ChineseText.splitName("") == nil)
    }

    @Test(arguments: ["张伟", "張偉", "章伟", "张威", "张 伟", "Zhang Wei", "zhangwei", "ZHANG WEI", "Zhāng Wěi"])
    func pinyinKeysAgree(name: String) {
        #expect(ChineseText.pinyinKey(name) == "zhangwei")
    }

    @Test func westernOrder() {
        #expect(ChineseText.pinyinKey("Wei Zhang") == "weizhang")
        #expect(ChineseText.pinyinKey("Wei Zhang", surnameFirst: false) == "zhangwei")
        #expect(ChineseText.pinyinKey("Zhang, Wei", surnameFirst: false) == "zhangwei")
        #expect(ChineseText.pinyinKey("Nana Ouyang", surnameFirst: false) == "ouyangnana")
        #expect(ChineseText.pinyinKey("zhangwei", surnameFirst: false) == "zhangwei")
        #expect(ChineseText.pinyinKey("张伟", surnameFirst: false) == "zhangwei")  // Han: always surname first
    }

    @Test func segmentsRunTogetherPinyin() {
        #expect(ChineseText.pinyinSegments("zhangwei") == ["zhang", "wei"])
        #expect(ChineseText.pinyinSegments("ouyangnana") == ["ou", "yang", "na", "na"])
        #expect(ChineseText.pinyinSegments("xian") == ["xian"])
        #expect(ChineseText.pinyinSegments("fangan") == ["fan", "gan"])
        #expect(ChineseText.pinyinSegments("lvxiaoming") == ["lv", "xiao", "ming"])
        #expect(ChineseText.pinyinSegments("lyu") == ["lv"])
        #expect(ChineseText.pinyinSegments("john") == nil)
        #expect(ChineseText.pinyinSegments("zhang1") == nil)
        #expect(ChineseText.pinyinSegments("") == nil)
    }

    // MARK: Titles

    @Test func stripsTitles() {
        #expect(ChineseText.strippingTitle("张伟先生") == "张伟")
        #expect(ChineseText.strippingTitle("张女士") == "张")
        #expect(ChineseText.strippingTitle("张总") == "张")
        #expect(ChineseText.strippingTitle("李志强总") == "李志强")
        #expect(ChineseText.strippingTitle("张总经理") == "张")
        #expect(ChineseText.strippingTitle("沈宁(经理)") == "沈宁")
        #expect(ChineseText.strippingTitle("沈宁（经理）") == "沈宁")
        #expect(ChineseText.strippingTitle("张刚 经理") == "张刚")
        #expect(ChineseText.strippingTitle(" 张伟 ") == "张伟")
        #expect(ChineseText.strippingTitle("先生") == "先生")
        #expect(ChineseText.strippingTitle("Mr Zhang 先生") == "Mr Zhang 先生")
        #expect(ChineseText.strippingTitle("张伟(北京)") == "张伟(北京)")
        #expect(ChineseText.strippingTitle("小周") == "周")
        #expect(ChineseText.strippingTitle("老王") == "王")
        #expect(ChineseText.strippingTitle("小明明") == "小明明")
        #expect(ChineseText.strippingTitle("王小") == "王小")
    }

    // MARK: Similarity

    @Test func similarityScale() {
        #expect(ChineseText.nameSimilarity("张伟", "张伟") == 1.0)
        #expect(ChineseText.nameSimilarity("張偉", "张伟") == 1.0)
        #expect(ChineseText.nameSimilarity("张 伟", "张伟") == 1.0)
        #expect(ChineseText.nameSimilarity("章伟", "张伟") == 0.9)
        #expect(ChineseText.nameSimilarity("张威", "张伟") == 0.9)
        #expect(ChineseText.nameSimilarity("Zhang Wei", "张伟") == 0.9)
        #expect(ChineseText.nameSimilarity("zhangwei", "張偉") == 0.9)
        #expect(ChineseText.nameSimilarity("Wei Zhang", "张伟") == 0.9)
        #expect(ChineseText.nameSimilarity("Wei Zhang", "Zhang Wei") == 0.9)
        #expect(ChineseText.nameSimilarity("Wang Changjiang", "王长江") == 0.85)  // 长: zhang first, chang too
        #expect(ChineseText.nameSimilarity("Ceng Wei", "曾伟") == 0.85)  // surname zeng, also read ceng
        #expect(ChineseText.nameSimilarity("Chang Jiang", "长江") == 0.9)  // surname 长 is chang
        #expect(ChineseText.nameSimilarity("臧伟", "张伟") == 0.7)  // fuzzy pinyin z/zh, an/ang
        #expect(ChineseText.nameSimilarity("刘娜", "牛娜") == 0.7)  // fuzzy pinyin l/n
        #expect(ChineseText.nameSimilarity("张玲", "张伟") == 0.6)
        #expect(ChineseText.nameSimilarity("李伟", "张伟") == 0.6)
        #expect(ChineseText.nameSimilarity("张小伟", "张伟") == 0.6)
        #expect(ChineseText.nameSimilarity("王芳", "张伟") < 0.5)
        #expect(ChineseText.nameSimilarity("", "张伟") == 0)
        #expect(ChineseText.nameSimilarity("先生", "") == 0)
    }

    @Test func similarityOrdersIdenticalHomophoneUnrelated() {
        let identical = ChineseText.nameSimilarity("张伟", "張偉")
        let homophone = ChineseText.nameSimilarity("张伟", "章伟")
        let oneSyllable = ChineseText.nameSimilarity("张伟", "张丽")
        let unrelated = ChineseText.nameSimilarity("张伟", "欧阳娜娜")
        #expect(identical > homophone)
        #expect(homophone > oneSyllable)
        #expect(oneSyllable > unrelated)
        #expect((0...1).contains(unrelated))
        #expect(ChineseText.namesSoundAlike("张伟", "章伟"))
        #expect(ChineseText.namesSoundAlike("Wei Zhang", "張偉"))
        #expect(!ChineseText.namesSoundAlike("张伟", "张丽"))
    }

    @Test(arguments: [("张伟", "章伟"), ("Wei Zhang", "张伟"), ("张小伟", "张伟"), ("王芳", "张伟"), ("刘娜", "牛娜")])
    func similarityIsSymmetric(a: String, b: String) {
        #expect(ChineseText.nameSimilarity(a, b) == ChineseText.nameSimilarity(b, a))
    }

    @Test func jaroWinklerReference() {
        // Classic values from Winkler (1990) / the usual test vectors.
        #expect(abs(ChineseText.jaroWinkler("martha", "marhta") - 0.9611) < 0.0001)
        #expect(abs(ChineseText.jaroWinkler("dwayne", "duane") - 0.84) < 0.0001)
        #expect(abs(ChineseText.jaroWinkler("dixon", "dicksonx") - 0.8133) < 0.0001)
        #expect(ChineseText.jaroWinkler("abc", "xyz") == 0)
    }

    @Test func precomputedNamesMatchTheConvenienceFunction() {
        let names = ["张伟", "張偉", "章伟", "Wei Zhang", "李娜", "欧阳娜娜", "Ouyang Nana", "单田芳"]
        let prepared = names.map(ChineseText.PhoneticName.init)
        for (i, a) in names.enumerated() {
            for (j, b) in names.enumerated() {
                #expect(prepared[i].similarity(to: prepared[j]) == ChineseText.nameSimilarity(a, b))
            }
        }
        #expect(prepared[2].key == "zhangwei")
        #expect(prepared[1].normalized == "张伟")
    }

    /// Sixteen threads (not tasks: the test run's two cooperative threads are busy with other suites,
    /// and a starved task group once overran the time limit) build the tables at the same moment.
    @Test(.timeLimit(.minutes(5))) func concurrentFirstUseIsSafe() async {
        let keys = await withTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    await withCheckedContinuation { c in
                        Thread { c.resume(returning: ChineseText.pinyinKey("張偉")) }.start()
                    }
                }
            }
            var keys: [String] = []
            for await key in group {
                keys.append(key)
            }
            return keys
        }
        #expect(keys == Array(repeating: "zhangwei", count: 16))
    }

    // MARK: Data set

    /// `shared/data/crm-dedupe-dev/records.csv`, found from this file: the repository's `shared/`
    /// sits beside the repository (`/work/main` and `/work/shared`).
    static let recordsURL: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()
        .appendingPathComponent("../../../shared/data/crm-dedupe-dev/records.csv")
        .standardizedFileURL

    static var recordsPresent: Bool {
        FileManager.default.fileExists(atPath: Self.recordsURL.path)
    }

    static func recordNames() throws -> [String] {
        let text = try String(contentsOf: Self.recordsURL, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        let column = try #require(header.firstIndex(of: "name"))
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count > column ? String(fields[column]) : ""
        }
    }

    @Test(.enabled(if: ChineseTextTests.recordsPresent, "shared/data/crm-dedupe-dev/records.csv is absent"))
    func everyHanCharacterInTheDataSetHasPinyin() throws {
        let names = try Self.recordNames()
        #expect(names.count == 7479)
        var han = 0
        var covered = 0
        var traditional = 0
        var missing: Set<Character> = []
        for name in names {
            for scalar in name.unicodeScalars where ChineseText.isHan(scalar) {
                han += 1
                if !ChineseText.pinyinReadings(scalar).isEmpty {
                    covered += 1
                } else {
                    missing.insert(Character(scalar))
                }
                if ChineseText.simplified(String(scalar)).unicodeScalars.first != scalar {
                    traditional += 1
                }
            }
        }
        print(
            "records.csv: \(names.count) names, \(han) Han characters, \(covered) with pinyin "
                + "(\(Double(covered) / Double(max(han, 1)) * 100)%), \(traditional) traditional")
        #expect(han > 10_000)
        #expect(covered == han, "no pinyin for \(missing.sorted())")
        #expect(traditional > 0)
    }

    @Test(.enabled(if: ChineseTextTests.recordsPresent, "shared/data/crm-dedupe-dev/records.csv is absent"))
    func titledNamesReduceToTheirName() throws {
        let names = try Self.recordNames()
        var titled = 0
        for name in names {
            let stripped = ChineseText.strippingTitle(name)
            if stripped != name.trimmingCharacters(in: .whitespaces) {
                titled += 1
                #expect(stripped.unicodeScalars.allSatisfy { ChineseText.isHan($0) || $0.properties.isWhitespace })
                #expect(!stripped.isEmpty)
            }
        }
        print("records.csv: \(titled) names had a title removed")
        #expect(titled > 0)
    }
}
