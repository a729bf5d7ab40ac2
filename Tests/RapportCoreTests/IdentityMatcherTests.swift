import Testing
@testable import RapportCore

@Suite struct IdentityMatcherTests {
    let m = IdentityMatcher()

    func score(_ a: PersonRecord, _ b: PersonRecord) -> MatchScore { self.m.compare(MatchProfile(a), MatchProfile(b)) }
    func isMatch(_ a: PersonRecord, _ b: PersonRecord) -> Bool { self.score(a, b).score >= self.m.matchThreshold }

    @Test func traditionalNameFullWidthPhoneAndRegionMovedCompany() {
        let a = PersonRecord(id: "a", name: "陈颖", phone: "18168122645", email: "cheny@jiahe5.com",
                             company: "苏州佳合建筑工程有限责任公司", address: "江苏省苏州市吴中区黄河北路327号腾合大厦2504室")
        let b = PersonRecord(id: "b", name: "陳穎", phone: "１８１６８１２２６４５", email: " ChEny@jiAhe5.Com",
                             company: "佳合建筑工程(苏州)有限公司", address: "江苏苏州市吴中区黄河北路327号腾合大厦2504室")
        let s = self.score(a, b)
        #expect(s.score >= self.m.matchThreshold)
        #expect(s.reasons.contains { $0.field == "name" && $0.level == "exact" })
        #expect(s.reasons.contains { $0.field == "company" && $0.level == "same_core" })
        #expect(s.reasons.contains { $0.field == "address" && $0.level == "same_room" })
    }

    @Test func homophoneWithTheSamePhone() {
        #expect(self.isMatch(PersonRecord(id: "a", name: "郭亮", phone: "17660041582"),
                             PersonRecord(id: "b", name: "国亮", phone: "+86 176 6004 1582")))
    }

    @Test func switchboardColleaguesAreNotOnePerson() {
        let a = PersonRecord(id: "a", name: "汪静", phone: "020-54169283", company: "广州宏信电子商务有限公司",
                             address: "广东省广州市天河区光明路725号11号楼1902室")
        let b = PersonRecord(id: "b", name: "李强", phone: "020-54169283", company: "广州宏信电子商务有限公司",
                             address: "广东省广州市天河区光明路725号11号楼1810室")
        #expect(!self.isMatch(a, b))
    }

    @Test func sameNameSameCityStrangersAreNotOnePerson() {
        let a = PersonRecord(id: "a", name: "李磊", phone: "13885263728", email: "li_lei@126.com",
                             address: "上海市徐汇区人民南路59号29幢2005室")
        let b = PersonRecord(id: "b", name: "李磊", phone: "15011112222", email: "lilei88@qq.com",
                             company: "上海星河科技有限公司", address: "上海市徐汇区漕溪北路18号1201室")
        #expect(!self.isMatch(a, b))
    }

    @Test func placeholderPhonesIdentifyNobody() {
        let a = MatchProfile(PersonRecord(id: "a", name: "张老师", phone: "13800138000"))
        #expect(!a.blockingKeys.contains { $0.hasPrefix("p:") })
        #expect(!self.isMatch(PersonRecord(id: "a", name: "张伟", phone: "13800138000"),
                              PersonRecord(id: "b", name: "王芳", phone: "13800138000")))
    }

    @Test func gmailAliasesAreOneAddress() {
        #expect(MatchProfile.canonicalEmail("zhang.wei+crm@gmail.com") == "zhangwei@gmail.com")
        #expect(MatchProfile.canonicalEmail("zhang.wei@163.com") == "zhang.wei@163.com")
    }

    @Test func companyCores() {
        for name in ["北京华信科技有限公司", "华信科技(北京)有限公司", "华信科技有限公司", "北京华信有限公司", "华信"] {
            #expect(CompanyName(name).core == "华信", "\(name)")
        }
        #expect(CompanyName("Acme Trading Co., Ltd.").core == "acme trading")
    }

    @Test func chineseAddressParts() {
        let full = AddressParts("浙江省杭州市西湖区淮海大道869号祥盛家园15幢2209室")
        #expect(full.city == "杭州" && full.district == "西湖区" && full.street == "淮海大道869号" && full.room == "2209")
        let short = AddressParts("西湖区淮海大道869号祥盛家园15幢2209")
        #expect(short.compare(full).0 == "same_room")
        let otherRoom = AddressParts("浙江省杭州市西湖区淮海大道869号祥盛家园15幢1101室")
        #expect(otherRoom.compare(full).0 == "same_street_other_room")
        #expect(AddressParts("江苏省苏州市吴中区黄河北路327号").compare(AddressParts("广东省深圳市南山区黄河北路327号")).1 < 0)
    }

    @Test func surnameWithTitleAgreesOnlyWeakly() {
        let s = self.score(PersonRecord(id: "a", name: "张伟"), PersonRecord(id: "b", name: "张总"))
        #expect(s.reasons.first { $0.field == "name" }?.level == "surname_only")
        let t = self.score(PersonRecord(id: "a", name: "张伟"), PersonRecord(id: "b", name: "王总"))
        #expect(t.reasons.first { $0.field == "name" }?.level == "different_surname")
    }

    @Test func latinNamesWithTyposOrSwappedParts() {
        let a = PersonRecord(id: "a", name: "madeline conaghty", address: "8 bonython street umina park myrtleford nsw 2800",
                             birthDate: "19850810", nationalID: "6575036")
        let b = PersonRecord(id: "b", name: "conaghty madeline", address: "8 bonython street umina park myrtleofrd nsw 2800",
                             birthDate: "19850810", nationalID: "7498786")
        #expect(self.isMatch(a, b))
        let stranger = PersonRecord(id: "c", name: "simon george", address: "107 stieglitz circuit sheep station enoggera qld 2228",
                                    birthDate: "19680403", nationalID: "9932427")
        #expect(!self.isMatch(a, stranger))
    }

    @Test func clustererJoinsThroughBlocksAndExplains() {
        let records = [
            PersonRecord(id: "1", name: "冯超", phone: "15188217290", email: "feng.chao@qq.com"),
            PersonRecord(id: "2", name: "冯超", phone: "151 8821 7290"),
            PersonRecord(id: "3", name: "馮超", email: "FENG.CHAO@QQ.COM "),
            PersonRecord(id: "4", name: "王芳", phone: "13912340000"),
        ]
        let r = IdentityClusterer().cluster(records.map(MatchProfile.init))
        #expect(r.clusterOf == [0, 0, 0, 3])
        #expect(r.matches.allSatisfy { !$0.2.reasons.isEmpty })
    }

    @Test func oneEditAndTranspositions() {
        #expect(IdentityMatcher.oneEdit("+8613800138001", "+8613800138000"))
        #expect(IdentityMatcher.oneEdit("+8613800183000", "+8613800138000"))
        #expect(!IdentityMatcher.oneEdit("+8613800183001", "+8613800138000"))
        #expect(IdentityMatcher.transposedDayMonth("19850810", "19851008"))
    }
}
