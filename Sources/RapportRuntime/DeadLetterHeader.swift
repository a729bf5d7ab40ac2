import Foundation
import RapportAMQP
import RapportCore
import RapportSupport
import RapportPostgres

/// Header names every dead letter carries, so whoever looks at one sees why.
public enum DeadLetterHeader {
    public static let code = "x-rapport-error-code"
    public static let error = "x-rapport-error"
    public static let field = "x-rapport-error-field"
    public static let originalExchange = "x-rapport-original-exchange"
    public static let originalRoutingKey = "x-rapport-original-routing-key"
    public static let failedAt = "x-rapport-failed-at"
    public static let attempts = "x-rapport-attempts"
    /// Unique id of one dead-lettering, so the archiver stores it once even if it is redelivered.
    public static let id = "x-rapport-dead-letter-id"
    public static let replayedFrom = "x-rapport-replayed-from"
    /// The upstream's own record key (an import mapping's idempotency key cell, an ad platform's lead id),
    /// when the side that refused the message knew it; the ledger export shows it as `upstream_key`.
    public static let upstreamKey = "x-rapport-upstream-key"
    public static let deliveryCount = "x-delivery-count"
    /// The message's `user_id`: a worker re-publishing it cannot keep the property (the broker refuses a
    /// user_id other than the publisher's login), so it travels here; a replay by an identity with the
    /// broker's `impersonator` tag restores it.
    public static let originalUserID = "x-rapport-original-user-id"

    /// Headers a dead-lettering adds, which a replay removes again (a signature's headers stay).
    public static let added: Set<String> = [code, error, field, originalExchange, originalRoutingKey, failedAt, attempts, id,
                                            replayedFrom, upstreamKey, deliveryCount, originalUserID]
}
