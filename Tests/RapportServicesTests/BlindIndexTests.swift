import Testing
import RapportStore
import RapportSupport

@Suite struct BlindIndexTests {
    let key = Array(repeating: UInt8(7), count: 32)

    @Test func equalValuesMeetAndNothingOfTheValueShows() {
        let index = BlindIndex(key: self.key, digest: .sha256, version: 1)
        let a = index("phone:+8613812345678")
        #expect(a == index("phone:+8613812345678"))
        #expect(a.hasPrefix("phone:") && a.count == "phone:".count + 32)
        #expect(!a.contains("13812345678"))
        #expect(index("phone:+8613812345679") != a)
    }

    @Test func eachFieldHasItsOwnKeyAndEachIndexKeyItsOwnValues() {
        let index = BlindIndex(key: self.key, digest: .sha256, version: 1)
        // The same value under two fields does not meet: one field's index says nothing of another's.
        #expect(index("p:+8613812345678").dropFirst(2) != index("phone:+8613812345678").dropFirst(6))
        let other = BlindIndex(key: Array(repeating: 8, count: 32), digest: .sha256, version: 2)
        #expect(other("email:a@b.cn") != index("email:a@b.cn"))
        let sm3 = BlindIndex(key: self.key, digest: .sm3, version: 1)
        #expect(sm3("email:a@b.cn") != index("email:a@b.cn"))
        // A field no list names still gets a key of its own.
        #expect(index("zz:x") != BlindIndex.plain("zz:x"))
    }

    @Test func plainKeepsKeysAndMapReadsResultsBack() {
        #expect(BlindIndex.plain("email:a@b.cn") == "email:a@b.cn")
        let index = BlindIndex(key: self.key, digest: .sha256, version: 1)
        let map = index.map(["email:a@b.cn", "phone:+8613812345678"])
        #expect(map[index("email:a@b.cn")] == "email:a@b.cn")
        #expect(map.count == 2)
    }
}
