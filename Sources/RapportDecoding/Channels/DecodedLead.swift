import RapportCore
import RapportSupport

/// A decoded lead plus what the worker needs beyond ``RapportCore/LeadSubmission``: the platform's own
/// lead id for idempotency, and the test-lead flag.
///
/// Both are also written into ``RapportCore/LeadSubmission/fields`` under the reserved keys
/// ``platformLeadIDKey`` (`_platform_lead_id`) and ``isTestKey`` (`_is_test`), so they are stored with the
/// lead and reports can leave test leads out. A payload cannot set those keys itself: values it sends
/// under them are dropped.
public struct DecodedLead: Sendable, Hashable {
    /// The normalized submission.
    public var submission: LeadSubmission
    /// The connector that decoded it (``ChannelMapping/channel``, for example `google-ads`).
    public var connector: String
    /// The platform's own lead id (Google's `lead_id`, the Graph API lead `id`, an import's record id),
    /// when the mapping declares an ``ChannelMapping/idempotencyKey``.
    public var platformLeadID: String?
    /// Whether the platform marked this as a test lead. Test leads are stored but left out of reports.
    public var isTest: Bool

    /// Creates a decoded lead.
    ///
    /// - Parameters:
    ///   - submission: The normalized submission.
    ///   - connector: The connector's name.
    ///   - platformLeadID: The platform's own lead id, if any. Defaults to `nil`.
    ///   - isTest: Whether it is a test lead. Defaults to `false`.
    public init(submission: LeadSubmission, connector: String, platformLeadID: String? = nil, isTest: Bool = false) {
        self.submission = submission
        self.connector = connector
        self.platformLeadID = platformLeadID
        self.isTest = isTest
    }

    /// The key to record in the inbound ledger in place of the message id.
    ///
    /// `<connector>:<platformLeadID>` when the platform has its own lead id, so a webhook re-sent with a new
    /// message id still maps to the same ledger row and creates nothing new; otherwise the submission's
    /// ``RapportCore/LeadSubmission/messageID``.
    public var idempotencyKey: String {
        if let platformLeadID = self.platformLeadID {
            return self.connector + ":" + platformLeadID
        }
        return self.submission.messageID
    }

    /// The ``RapportCore/LeadSubmission/fields`` key holding ``platformLeadID`` (`_platform_lead_id`).
    public static let platformLeadIDKey = LeadSubmission.platformLeadIDKey
    /// The ``RapportCore/LeadSubmission/fields`` key holding ``isTest`` (`_is_test`), present when the mapping
    /// declares a ``ChannelMapping/testFlag``.
    public static let isTestKey = "_is_test"

    /// Keys of ``RapportCore/LeadSubmission/fields`` that only decoders write.
    static let reservedKeys: Set<String> = [Self.platformLeadIDKey, Self.isTestKey]
}
