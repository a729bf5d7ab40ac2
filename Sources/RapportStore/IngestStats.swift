import Foundation
import RapportPostgres

/// What ingest has done so far, for `rapport stats` and the quickstart.
public struct IngestStats: Sendable, Hashable {
    public var leads = 0, accepted = 0, created = 0, merged = 0, matchedCustomer = 0, eventsPublished = 0, eventsPending = 0

    /// Counts them in one query.
    public static func read(_ db: PGConnection) throws -> IngestStats {
        guard let r = try db.query(
            """
            select (select count(*) from leads) as leads,
                   (select count(*) from inbound_ledger) as accepted,
                   (select count(*) from inbound_ledger where outcome = 'created') as created,
                   (select count(*) from inbound_ledger where outcome = 'merged') as merged,
                   (select count(*) from inbound_ledger where customer_id is not null) as matched,
                   (select count(*) from outbox where published_at is not null) as published,
                   (select count(*) from outbox where published_at is null) as pending
            """).first else { return IngestStats() }
        return IngestStats(leads: try r.decode("leads"), accepted: try r.decode("accepted"), created: try r.decode("created"),
                           merged: try r.decode("merged"), matchedCustomer: try r.decode("matched"),
                           eventsPublished: try r.decode("published"), eventsPending: try r.decode("pending"))
    }
}
