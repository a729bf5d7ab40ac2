import Foundation
import RapportCore
import RapportDecoding
import RapportSupport
import Testing

struct IdentityCommandTests {
    static let a = "6f1c2a9e-0000-4000-8000-000000000001", b = "6f1c2a9e-0000-4000-8000-000000000002"

    static func decode(_ key: String, _ body: String, id: String? = "m1", type: String? = "application/json", app: String? = nil)
        -> Result<(IdentityCommand, actor: String), InboundRejection> {
        IdentityCommand.decode(InboundEnvelope(exchange: "rapport.commands", routingKey: key, messageID: id, appID: app,
                                               contentType: type, body: Array(body.utf8)))
    }

    @Test func mergeUnmergeAndReviewDecode() throws {
        let m = try Self.decode("identity.merge", #"{"winner_lead_id": "\#(Self.a)", "loser_lead_id": "\#(Self.b)", "actor": "li", "reason": "same"}"#).get()
        #expect(m.0 == .merge(winner: UUID(uuidString: Self.a)!, loser: UUID(uuidString: Self.b)!, reason: "same"))
        #expect(m.actor == "li")
        #expect(try Self.decode("identity.unmerge", #"{"merge_id": 7}"#, app: "crm-ui").get().0 == .unmerge(mergeID: 7))
        #expect(try Self.decode("identity.unmerge", #"{"merge_id": "7", "actor": "x"}"#).get().0 == .unmerge(mergeID: 7))
        #expect(try Self.decode("identity.review", #"{"candidate_id": 3, "decision": "dismiss", "actor": "x"}"#).get().0
                == .review(candidateID: 3, merge: false))
        #expect(try Self.decode("identity.erase", #"{"lead_id": "\#(Self.a)", "actor": "x"}"#).get().0 == .erase(subject: UUID(uuidString: Self.a)!, customer: false))
        #expect(try Self.decode("identity.erase", #"{"customer_id": "\#(Self.b)", "actor": "x"}"#).get().0 == .erase(subject: UUID(uuidString: Self.b)!, customer: true))
    }

    @Test(arguments: [
        ("identity.merge", #"{"winner_lead_id": "\#(a)", "actor": "x"}"#, "loser_lead_id"),
        ("identity.merge", #"{"winner_lead_id": "\#(a)", "loser_lead_id": "\#(a)", "actor": "x"}"#, "loser_lead_id"),
        ("identity.merge", #"{"winner_lead_id": "\#(a)", "loser_lead_id": "\#(b)"}"#, "actor"),
        ("identity.unmerge", #"{"merge_id": 1.5, "actor": "x"}"#, "merge_id"),
        ("identity.unmerge", #"{"merge_id": -2, "actor": "x"}"#, "merge_id"),
        ("identity.review", #"{"candidate_id": 3, "decision": "maybe", "actor": "x"}"#, "decision"),
        ("identity.delete", #"{"actor": "x"}"#, "routing_key"),
        ("identity.erase", #"{"actor": "x"}"#, "lead_id"),
        ("identity.erase", #"{"lead_id": "\#(a)", "customer_id": "\#(b)", "actor": "x"}"#, "lead_id"),
        ("identity.erase", #"{"lead_id": "not-a-uuid", "actor": "x"}"#, "lead_id"),
    ])
    func badCommandsNameTheField(key: String, body: String, field: String) {
        guard case .failure(let r) = Self.decode(key, body) else { Issue.record("accepted \(body)"); return }
        #expect(r.field == field)
    }

    @Test func envelopeProblems() {
        guard case .failure(let noID) = Self.decode("identity.unmerge", #"{"merge_id": 1, "actor": "x"}"#, id: nil),
              case .failure(let type) = Self.decode("identity.unmerge", #"{"merge_id": 1, "actor": "x"}"#, type: "text/plain"),
              case .failure(let json) = Self.decode("identity.unmerge", "[1]")
        else { Issue.record("accepted"); return }
        #expect(noID.code == .missingMessageID)
        #expect(type.code == .wrongContentType)
        #expect(json.code == .invalidJSON)
    }
}
