import Foundation
@testable import RapportCore
import RapportSupport
import Testing

@Suite("Normalize.phone")
struct NormalizePhoneTests {
    @Test(
        "Chinese mobile written many ways",
        arguments: [
            "138 0013 8000",
            "+86-138-0013-8000",
            "0086 13800138000",
            "８６１３８００１３８０００",
            "(+86) 138.0013.8000",
            "13800138000",
            "+86 13800138000",
            "8613800138000",
            "＋８６　１３８－００１３－８０００",
            "  13800138000\n",
            "138/0013/8000",
            "138\u{2013}0013\u{2013}8000",
        ])
    func chineseMobile(raw: String) {
        #expect(Normalize.phone(raw) == "+8613800138000")
    }

    @Test(
        "Extensions are dropped",
        arguments: [
            "13800138000 ext 12",
            "13800138000 ext. 12",
            "13800138000x12",
            "13800138000 X 12",
            "13800138000转12",
            "13800138000 分机 123",
            "13800138000#12",
            "13800138000 extension: 7",
        ])
    func extensions(raw: String) {
        #expect(Normalize.phone(raw) == "+8613800138000")
    }

    @Test(
        "Chinese landlines",
        arguments: [
            ("010-12345678", "+861012345678"),
            ("0755 8888 8888", "+8675588888888"),
            ("(021) 6123 4567", "+862161234567"),
            ("+86 10 1234 5678", "+861012345678"),
            ("+86 (0)755 8888 8888", "+8675588888888"),
            ("0086 21 61234567", "+862161234567"),
            ("010-12345678转8001", "+861012345678"),
            ("0571-8765432", "+865718765432"),
        ])
    func chineseLandlines(raw: String, expected: String) {
        #expect(Normalize.phone(raw) == expected)
    }

    @Test(
        "Other regions",
        arguments: [
            ("9123 4567", "HK", "+85291234567"),
            ("6612 3456", "MO", "+85366123456"),
            ("0912 345 678", "TW", "+886912345678"),
            ("(415) 555-2671", "US", "+14155552671"),
            ("1 415 555 2671", "US", "+14155552671"),
            ("416-555-0199", "CA", "+14165550199"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("07911 123456", "GB", "+447911123456"),
            ("8123 4567", "SG", "+6581234567"),
            ("090-1234-5678", "JP", "+819012345678"),
            ("03-1234-5678", "JP", "+81312345678"),
            ("010-1234-5678", "KR", "+821012345678"),
            ("030 1234567", "DE", "+49301234567"),
            ("0412 345 678", "AU", "+61412345678"),
            ("04 1234 5678", "au", "+61412345678"),
        ])
    func otherRegions(raw: String, region: String, expected: String) {
        #expect(Normalize.phone(raw, defaultRegion: region) == expected)
    }

    @Test(
        "International numbers ignore the default region",
        arguments: [
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("0044 20 7946 0958", "+442079460958"),
            ("+1 (415) 555-2671", "+14155552671"),
            ("+852 9123 4567", "+85291234567"),
            ("+33 1 23 45 67 89", "+33123456789"),
            ("+61 412 345 678", "+61412345678"),
        ])
    func international(raw: String, expected: String) {
        #expect(Normalize.phone(raw, defaultRegion: "CN") == expected)
        #expect(Normalize.phone(raw, defaultRegion: "US") == expected)
    }

    @Test(
        "Things that are not phone numbers",
        arguments: [
            "12",
            "1234567",
            "",
            "   ",
            "abc",
            "138OO138OOO",
            "call me: 13800138000",
            "1380013800a",
            "+86 138 0013 800",
            "12800138000",
            "138001380001",
            "+1234567890123456",
            "13800138000+1",
            "++8613800138000",
            "0000000000",
            "+0086 13800138000",
            "13800138000 / 13900139000",
            "13800138000 ext",
            "x12",
        ])
    func rejected(raw: String) {
        #expect(Normalize.phone(raw) == nil)
    }

    @Test func nilIsNil() {
        #expect(Normalize.phone(nil) == nil)
    }

    @Test func nationalNumberWithUnknownRegionIsNil() {
        #expect(Normalize.phone("01 23 45 67 89", defaultRegion: "FR") == nil)
        #expect(Normalize.phone("+33 1 23 45 67 89", defaultRegion: "FR") == "+33123456789")
    }

    @Test func wrongLengthForKnownRegionIsNil() {
        #expect(Normalize.phone("9123 456", defaultRegion: "HK") == nil)
        #expect(Normalize.phone("415 555 267", defaultRegion: "US") == nil)
        #expect(Normalize.phone("+852 9123 45678") == nil)
    }
}

@Suite("Normalize.email")
struct NormalizeEmailTests {
    @Test(
        "Valid addresses are trimmed, NFKC'd and lowercased",
        arguments: [
            ("alice@example.com", "alice@example.com"),
            ("  Alice.Smith@Example.COM \n", "alice.smith@example.com"),
            ("\u{3000}bob+tag@mail.example.cn\u{3000}", "bob+tag@mail.example.cn"),
            ("ｃａｒｏｌ＠ｅｘａｍｐｌｅ．ｃｏｍ", "carol@example.com"),
            ("张伟@例子.中国", "张伟@例子.中国"),
        ])
    func valid(raw: String, expected: String) {
        #expect(Normalize.email(raw) == expected)
    }

    @Test(
        "Implausible addresses are nil",
        arguments: [
            "",
            "   ",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "alice@@example.com",
            "a@b@example.com",
            "alice@exa mple.com",
            "al ice@example.com",
            "alice@example.",
            "alice@.com",
            "alice@example..com",
        ])
    func invalid(raw: String) {
        #expect(Normalize.email(raw) == nil)
    }

    @Test func nilIsNil() {
        #expect(Normalize.email(nil) == nil)
    }
}

@Suite("Normalize.name and Normalize.text")
struct NormalizeNameTextTests {
    @Test(
        "Names",
        arguments: [
            ("张  伟", "张 伟"),
            ("张\u{3000}伟", "张 伟"),
            ("  Ｊｏｈｎ　Ｓｍｉｔｈ  ", "John Smith"),
            ("John\t\tSmith\n", "John Smith"),
            ("Mary\n  Ann\r\nLee", "Mary Ann Lee"),
            ("ﾀﾅｶ", "タナカ"),
            ("Ｏ’Ｂｒｉｅｎ", "O’Brien"),
            ("Zoe\u{200B}y", "Zoey"),
            ("李雷", "李雷"),
        ])
    func names(raw: String, expected: String) {
        #expect(Normalize.name(raw) == expected)
    }

    @Test func emptyNamesAreNil() {
        #expect(Normalize.name(nil) == nil)
        #expect(Normalize.name("") == nil)
        #expect(Normalize.name(" \u{3000}\t\n") == nil)
    }

    @Test func textKeepsInnerNewlines() {
        #expect(Normalize.text("  Hello,\nplease call me.\n\n  ") == "Hello,\nplease call me.")
        #expect(Normalize.text("ＡＢＣ有限公司") == "ABC有限公司")
        #expect(Normalize.text("\u{3000}深圳市南山区\u{3000}") == "深圳市南山区")
    }

    @Test func emptyTextIsNil() {
        #expect(Normalize.text(nil) == nil)
        #expect(Normalize.text("") == nil)
        #expect(Normalize.text("\n\u{3000} ") == nil)
    }
}

@Suite struct NFKCTests {
    @Test func nfkcFastPathAgreesWithFoundation() {
        let samples = ["张伟", "Zhang Wei", "上海星河科技有限公司", "１３８", "Ｚｈａｎｇ", "张　伟", "㈱", "ﬁne", "A\u{0301}",
                       "北京市朝阳区建国路88号", "想了解报价，请联系我。", "a\u{200B}b", "\u{F900}"]
        for s in samples where Normalize.isNFKCStable(s) {
            #expect(s == s.precomposedStringWithCompatibilityMapping, "\(s)")
        }
        #expect(Normalize.isNFKCStable("上海星河科技有限公司 Acme"))
        #expect(!Normalize.isNFKCStable("１３８"))
        #expect(!Normalize.isNFKCStable("张　伟"))
    }
}
