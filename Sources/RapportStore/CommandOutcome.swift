import Foundation
import RapportCore
import RapportSupport
import RapportPostgres

/// What a command came to: a result, or a typed refusal (dead-lettered too when the message itself is
/// at fault or can never succeed).
public struct CommandOutcome: Sendable {
    public var result: JSONValue
    public var error: InboundRejection?
    public var deadLetter: Bool

    public init(result: JSONValue, error: InboundRejection?, deadLetter: Bool) {
        self.result = result
        self.error = error
        self.deadLetter = deadLetter
    }

    public static func ok(_ result: JSONValue) -> CommandOutcome { .init(result: result, error: nil, deadLetter: false) }
    public static func refused(_ error: InboundRejection, deadLetter: Bool) -> CommandOutcome {
        .init(result: .null, error: error, deadLetter: deadLetter)
    }

    /// `{"ok": true, "result": …}` or `{"ok": false, "error": {"code", "message", "field"}}`, plus
    /// `"current"` when a refusal carries the record as it is (a `conflict`).
    public var reply: JSONValue {
        guard let e = self.error else { return .object(["ok": .bool(true), "result": self.result]) }
        var error: [String: JSONValue] = ["code": .string(e.code.rawValue), "message": .string(e.reason)]
        if let f = e.field { error["field"] = .string(f) }
        var reply: [String: JSONValue] = ["ok": .bool(false), "error": .object(error)]
        if self.result != .null { reply["current"] = self.result }
        return .object(reply)
    }

    /// The outcome a stored reply stands for (a redelivered command gets its first answer again).
    init(reply: JSONValue) {
        let o = reply.objectValue ?? [:]
        if o["ok"] == .bool(true) {
            self = .ok(o["result"] ?? .null)
        } else {
            let e = o["error"]?.objectValue ?? [:]
            self.init(result: o["current"] ?? .null,
                      error: InboundRejection(code: RejectionCode(rawValue: e["code"]?.stringValue ?? "command_rejected"),
                                              reason: e["message"]?.stringValue ?? "", field: e["field"]?.stringValue),
                      deadLetter: false)
        }
    }
}
