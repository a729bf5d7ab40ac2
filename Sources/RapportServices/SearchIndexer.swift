import Foundation
import Logging
import RapportRuntime
import RapportStore

/// Keeps leads searchable, as a periodic job: tokenizes the leads ingest or a merge changed, in
/// batches, right away while there are some and every second otherwise.
public struct SearchIndexer: PeriodicJob {
    public var needs: PeriodicJobNeeds { PeriodicJobNeeds(database: true, publisher: false) }

    public init() {}

    public func runOnce(_ context: PeriodicJobContext) throws -> Duration {
        try LeadSearchIndex(db: try context.db).refresh() == 0 ? .seconds(1) : .zero
    }
}
