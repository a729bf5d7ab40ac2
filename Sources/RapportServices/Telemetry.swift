import Foundation
import RapportStore
import RapportRuntime
import RapportDecoding
import Metrics
import RapportCore
import RapportSupport

/// What the workers count, through swift-metrics (a no-op until a backend is bootstrapped; `rapport run`
/// bootstraps Prometheus and serves `/metrics`).
public enum Telemetry {
    static func ingest(_ plan: LeadPlan, channel: String, deadLettered: [InboundRejection], batchDuration: Duration) {
        var byOutcome: [String: Int] = [:]
        for d in plan.decisions {
            let outcome = d.possibleDuplicateOf != nil ? "possible_duplicate" : d.outcome.rawValue
            byOutcome[outcome, default: 0] += 1
        }
        for (outcome, n) in byOutcome {
            Counter(label: "rapport_ingest_messages_total", dimensions: [("channel", channel), ("outcome", outcome)]).increment(by: n)
        }
        for r in deadLettered {
            Counter(label: "rapport_ingest_messages_total", dimensions: [("channel", channel), ("outcome", "dead_letter")]).increment()
            Counter(label: "rapport_dead_letters_total", dimensions: [("reason", r.code.rawValue)]).increment()
        }
        Timer(label: "rapport_ingest_batch_seconds", dimensions: [("channel", channel)]).recordNanoseconds(
            Int64(batchDuration.components.seconds) * 1_000_000_000 + Int64(batchDuration.components.attoseconds / 1_000_000_000))
    }

    /// How fuzzy commits went, and what the profile cache holds and answers.
    static func resolution(_ commit: LeadStore.CommitStats, cache: ProfileCache.Stats) {
        Counter(label: "rapport_resolution_batches_total", dimensions: [("replanned", commit.replanned ? "true" : "false")]).increment()
        Gauge(label: "rapport_profile_cache_hit_ratio").record(cache.hitRate)
        Gauge(label: "rapport_profile_cache_bytes").record(cache.bytes)
        Gauge(label: "rapport_profile_cache_entries").record(cache.entries)
        Gauge(label: "rapport_profile_cache_lookups").record(cache.hits + cache.misses)
    }

    static func reminders(fired: Int, late: Int) {
        Counter(label: "rapport_followup_reminders_total", dimensions: [("late", "false")]).increment(by: fired - late)
        if late > 0 { Counter(label: "rapport_followup_reminders_total", dimensions: [("late", "true")]).increment(by: late) }
    }

    public static func command(_ routingKey: String, ok: Bool) {
        Counter(label: "rapport_commands_total", dimensions: [("command", routingKey), ("result", ok ? "ok" : "refused")]).increment()
    }
}
