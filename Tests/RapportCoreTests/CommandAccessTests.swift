import Foundation
import RapportCore
import Testing

/// Who may send which command: a rep for themselves, a manager for their team, an admin for anyone.
struct CommandAccessTests {
    typealias P = CommandAccess.Principal
    typealias O = CommandAccess.Owner
    static let li = P(name: "li", role: .rep, repID: "rep-li")
    static let manager = P(name: "mgr", role: .manager, teamID: "east")
    static let admin = P(name: "boss", role: .admin)
    static let agent = P(name: "agent", role: .serviceAgent)

    @Test func aRepActsOnlyForThemselves() {
        #expect(CommandAccess.decide(Self.li, routingKey: "lead.claim", named: O(rep: "rep-li", team: "east"), owners: []) == nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "lead.claim", named: O(rep: "rep-wang", team: "east"), owners: []) != nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.edit", named: nil, owners: [O(rep: "rep-li", team: "east")]) == nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.edit", named: nil, owners: [O(rep: "rep-wang", team: "east")]) != nil)
        // Several records: every one must be theirs; an unowned one is not.
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.add_to_pool", named: nil,
                                     owners: [O(rep: "rep-li", team: "east"), O(rep: nil, team: nil)]) != nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "team.upsert", named: nil, owners: []) != nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.merge", named: nil, owners: []) != nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.search", named: nil, owners: []) == nil)
    }

    @Test func aManagerActsForTheirTeamOnly() {
        #expect(CommandAccess.decide(Self.manager, routingKey: "lead.claim", named: O(rep: "rep-li", team: "east"), owners: []) == nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "lead.claim", named: O(rep: "rep-zhao", team: "west"), owners: []) != nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "lead.assign", named: O(rep: nil, team: "east"), owners: []) == nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "lead.assign", named: O(rep: nil, team: "west"), owners: []) != nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "opportunity.stage", named: nil, owners: [O(rep: "rep-zhao", team: "west")]) != nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "customer.merge", named: nil, owners: []) == nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "field.define", named: nil, owners: []) != nil)
    }

    @Test func anAdminActsForAnyoneAndAServiceAgentForNoRep() {
        for key in CommandAccess.rules.keys {
            #expect(CommandAccess.decide(Self.admin, routingKey: key, named: O(rep: "rep-zhao", team: "west"), owners: [O(rep: nil, team: nil)]) == nil)
        }
        #expect(CommandAccess.decide(Self.agent, routingKey: "lead.claim", named: O(rep: "rep-li", team: "east"), owners: []) != nil)
        #expect(CommandAccess.decide(Self.agent, routingKey: "customer.add", named: nil, owners: []) != nil)
        #expect(CommandAccess.decide(Self.li, routingKey: "customer.add", named: nil, owners: []) == nil)
        #expect(CommandAccess.decide(Self.agent, routingKey: "kb.search", named: nil, owners: []) == nil)
    }

    @Test func onlyAnAdminErases() {
        #expect(CommandAccess.decide(Self.li, routingKey: "identity.erase", named: nil, owners: [O(rep: "rep-li", team: "east")]) != nil)
        #expect(CommandAccess.decide(Self.manager, routingKey: "identity.erase", named: nil, owners: [O(rep: "rep-li", team: "east")]) != nil)
        #expect(CommandAccess.decide(Self.agent, routingKey: "identity.erase", named: nil, owners: []) != nil)
        #expect(CommandAccess.decide(Self.admin, routingKey: "identity.erase", named: nil, owners: [O(rep: "rep-li", team: "east")]) == nil)
    }

    @Test func everyRoutedCommandHasARuleAndAnUnlistedOneIsRefused() {
        let keys = Set(SalesCommand.routingKeys + RecordCommand.routingKeys + IdentityCommand.routingKeys)
        #expect(keys.subtracting(CommandAccess.rules.keys).isEmpty, "no rule: \(keys.subtracting(CommandAccess.rules.keys).sorted())")
        #expect(CommandAccess.decide(Self.manager, routingKey: "lead.delete_everything", named: nil, owners: []) != nil)
    }
}
