import Foundation
import RapportCore
import RapportStore
import Testing

/// The profile cache without servers: bounded in bytes, keyed by touch count, counting hits and misses.
struct ProfileCacheTests {
    static func profile(_ i: Int) -> MatchProfile {
        MatchProfile(PersonRecord(id: "\(i)", name: "张伟\(i % 10)", phone: "+86138\(10_000_000 + i)",
                                  email: "user\(i)@example.cn", company: "上海星河科技有限公司",
                                  address: "上海市浦东新区世纪大道\(i)号"))
    }

    @Test func staysWithinItsBudgetAndKeepsWhatIsInUse() {
        let cache = ProfileCache(capacityBytes: 1 << 20)
        let hot = UUID()
        cache.store(id: hot, touchCount: 1, profile: Self.profile(0), recent: [])
        for i in 1...5_000 {
            cache.store(id: UUID(), touchCount: 1, profile: Self.profile(i), recent: [])
            // A lead in use is looked up now and then: it moves to the newer generation and survives.
            if i % 100 == 0 { #expect(cache.entry(id: hot, touchCount: 1) != nil) }
        }
        let stats = cache.stats
        #expect(stats.bytes <= 1 << 20)
        #expect(stats.entries < 5_000)
        #expect(stats.hits == 50 && stats.misses == 0)
    }

    @Test func aChangedLeadIsAMissAndKeepsOnlyItsLatestSubmissions() {
        let cache = ProfileCache()
        let id = UUID()
        cache.store(id: id, touchCount: 2, profile: Self.profile(1), recent: (1...6).map(Self.profile))
        #expect(cache.entry(id: id, touchCount: 3) == nil)
        let e = cache.entry(id: id, touchCount: 2)
        #expect(e?.recent.map(\.id) == ["3", "4", "5", "6"])
        #expect(cache.stats.hits == 1 && cache.stats.misses == 1)
        #expect(cache.stats.hitRate == 0.5)
    }

    @Test func anErasedLeadsEntriesGoAndTheirBytesWithThem() {
        let cache = ProfileCache()
        let (gone, kept) = (UUID(), UUID())
        cache.store(id: gone, touchCount: 1, profile: Self.profile(1), recent: [])
        cache.store(id: kept, touchCount: 1, profile: Self.profile(2), recent: [])
        let before = cache.stats.bytes
        cache.remove([gone])
        #expect(cache.entry(id: gone, touchCount: 1) == nil)
        #expect(cache.entry(id: kept, touchCount: 1) != nil)
        #expect(cache.stats.entries == 1 && cache.stats.bytes < before && cache.stats.bytes > 0)
    }
}
