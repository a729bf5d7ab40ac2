import Foundation
import RapportCore
import RapportSupport
import Testing

@Suite struct LeadPlannerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func sub(_ id: String, source: String = "site", name: String? = nil, phone: String? = nil, email: String? = nil,
             company: String? = nil, fields: [String: JSONValue] = [:]) -> LeadSubmission {
        LeadSubmission(source: source, channel: "webform", messageID: id, name: name, phone: phone, email: email,
                       company: company, fields: fields)
    }

    func ids() -> () -> UUID {
        var n = 0
        return {
            n += 1
            return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))!
        }
    }

    @Test func samePhoneInOneBatchIsOneLead() {
        let plan = LeadPlanner().plan(
            [sub("1", name: "张伟", phone: "+8613812345678"), sub("2", phone: "+8613812345678", email: "zw@x.cn")],
            processed: [], leadsByKey: [:], customersByKey: [:], now: self.now, newID: self.ids())
        #expect(plan.decisions.map(\.outcome) == [.created, .merged])
        #expect(plan.leads.count == 1)
        let lead = plan.leads.values.first!
        #expect(lead.name == "张伟" && lead.email == "zw@x.cn" && lead.touchCount == 2)
        #expect(Set(plan.newIdentities.map(\.key)) == ["phone:+8613812345678", "email:zw@x.cn"])
        #expect(plan.decisions[1].matchedKey == "phone:+8613812345678")
    }

    @Test func exactModeMergesOnlyOnTheSamePhoneOrEmail() {
        let subs = [sub("1", name: "张伟", phone: "+8613812345678", company: "北京华信科技有限公司"),
                    sub("2", name: "張偉", email: "zw@x.cn", company: "华信科技(北京)有限公司"),
                    sub("3", phone: "+8613812345678", email: "other@x.cn")]
        var exact = LeadPlanner()
        exact.fuzzy = false
        let e = exact.plan(subs, processed: [], leadsByKey: [:], customersByKey: [:], now: self.now, newID: self.ids())
        #expect(e.decisions.map(\.outcome) == [.created, .created, .merged])
        #expect(e.decisions.allSatisfy { $0.score == nil && $0.possibleDuplicateOf == nil })
        #expect(e.newBlockingKeys.isEmpty)
        // The fuzzy planner sees that 2 is the same person as 1 (traditional name, same company).
        let f = LeadPlanner().plan(subs, processed: [], leadsByKey: [:], customersByKey: [:], now: self.now, newID: self.ids())
        #expect(f.decisions[1].outcome != .created || f.decisions[1].possibleDuplicateOf != nil)
    }

    @Test func emailMatchesWhenPhoneDiffers() {
        let plan = LeadPlanner().plan(
            [sub("1", phone: "+8613812345678", email: "a@b.cn"), sub("2", phone: "+8613900139000", email: "a@b.cn")],
            processed: [], leadsByKey: [:], customersByKey: [:], now: self.now, newID: self.ids())
        #expect(plan.decisions.map(\.outcome) == [.created, .merged])
        #expect(plan.decisions[1].matchedKey == "email:a@b.cn")
        // The second phone now also identifies the lead.
        #expect(plan.newIdentities.count == 3)
    }

    @Test func laterSubmissionFillsButNeverOverwritesOrBlanks() {
        let id = UUID()
        let existing = LeadState(id: id, name: "王芳", phone: "+8613812345678", company: nil, source: "site",
                                 channel: "webform", fields: ["budget": "10万"], touchCount: 1,
                                 firstSeenAt: self.now, lastSeenAt: self.now)
        let plan = LeadPlanner().plan(
            [sub("9", name: nil, phone: "+8613812345678", company: "星河科技", fields: ["budget": "50万", "seats": 20])],
            processed: [], leadsByKey: ["phone:+8613812345678": existing], customersByKey: [:], now: self.now)
        let lead = plan.leads[id]!
        #expect(lead.name == "王芳")            // not blanked by a form without a name
        #expect(lead.company == "星河科技")      // filled
        #expect(lead.fields["budget"] == "10万") // kept; the touch holds the new value
        #expect(lead.fields["seats"] == 20)
        #expect(lead.touchCount == 2)
        #expect(plan.createdLeadIDs.isEmpty)
    }

    @Test func processedAndRepeatedMessageIDsChangeNothing() {
        let plan = LeadPlanner().plan(
            [sub("1", phone: "+8613812345678"), sub("1", phone: "+8613812345678"), sub("2", email: "x@y.cn")],
            processed: [LeadPlanner.ledgerKey(source: "site", messageID: "2")], leadsByKey: [:], customersByKey: [:],
            now: self.now, newID: self.ids())
        #expect(plan.decisions.map(\.outcome) == [.created, .duplicateMessage, .duplicateMessage])
        #expect(plan.leads.count == 1)
        #expect(plan.leads.values.first!.touchCount == 1)
    }

    @Test func sameMessageIDFromAnotherSourceIsAnotherMessage() {
        let plan = LeadPlanner().plan(
            [sub("1", source: "a", phone: "+8613812345678"), sub("1", source: "b", phone: "+8613812345678")],
            processed: [], leadsByKey: [:], customersByKey: [:], now: self.now)
        #expect(plan.decisions.map(\.outcome) == [.created, .merged])
    }

    @Test func customerMatchLinksTheLeadAndNamesTheOwner() {
        let c = CustomerMatch(id: UUID(), owner: "rep-7", name: "李娜")
        let plan = LeadPlanner().plan(
            [sub("1", email: "ln@corp.cn"), sub("2", phone: "+8613700137000")],
            processed: [], leadsByKey: [:], customersByKey: ["email:ln@corp.cn": c], now: self.now, newID: self.ids())
        #expect(plan.decisions[0].customer == c)
        #expect(plan.decisions[0].customerKey == "email:ln@corp.cn")
        #expect(plan.decisions[1].customer == nil)
        #expect(plan.leads[plan.decisions[0].leadID!]!.customerID == c.id)
        #expect(plan.leads[plan.decisions[1].leadID!]!.customerID == nil)
    }

    @Test func untouchedExistingLeadsAreNotRewritten() {
        let a = LeadState(id: UUID(), phone: "+8613812345678", source: "s", channel: "webform", firstSeenAt: self.now, lastSeenAt: self.now)
        let b = LeadState(id: UUID(), email: "b@b.cn", source: "s", channel: "webform", firstSeenAt: self.now, lastSeenAt: self.now)
        let plan = LeadPlanner().plan([sub("1", phone: "+8613812345678")], processed: [],
                                      leadsByKey: ["phone:+8613812345678": a, "email:b@b.cn": b], customersByKey: [:], now: self.now)
        #expect(Set(plan.leads.keys) == [a.id])
    }

    @Test func keysPutPhoneFirst() {
        #expect(IdentityKey.keys(of: sub("1", phone: "+8613812345678", email: "a@b.cn")) == ["phone:+8613812345678", "email:a@b.cn"])
        #expect(IdentityKey.keys(of: sub("1")) == [])
    }
}
