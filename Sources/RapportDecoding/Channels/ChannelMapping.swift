import Foundation
import RapportCore
import RapportSupport

/// A channel's declarative mapping from payload fields to ``RapportCore/LeadSubmission`` fields, as read
/// from `connectors/<channel>/mapping.json`.
///
/// A mapping names the payload ``format`` (how to find fields in a body or row), the rules that fill each
/// submission field (`from`, `join`, `split`, transforms, date formats, defaults), and the channel's
/// idempotency key, test flag and shared-key field. The file format is documented in `connectors/README.md`.
/// Load one with ``init(contentsOfFile:)`` or ``init(json:)`` and hand it to ``MappedDecoder``.
///
/// Every problem in a mapping is found when it is loaded: unknown keys, unknown targets or transforms,
/// date patterns with unsupported letters, and contact requirements that name unmapped fields all throw
/// a ``ChannelMappingError``.
public struct ChannelMapping: Sendable, Hashable {
    /// How a payload is laid out, which decides how mapping rules address its fields.
    ///
    /// A struct with static members rather than an enum, so more layouts can be added.
    public struct Format: Hashable, Sendable, CustomStringConvertible {
        /// The name used in mapping files, for example `google-ads`.
        public let name: String

        private init(name: String) {
            self.name = name
        }

        /// A JSON object; rules address its top-level keys (`flat-json`).
        public static let flatJSON = Format(name: "flat-json")
        /// A Google Ads lead-form webhook body; rules address top-level keys and the `user_column_data`
        /// items by `column_id` (`google-ads`).
        public static let googleAds = Format(name: "google-ads")
        /// A Meta Lead Ads lead as the Graph API returns it; rules address top-level keys and the
        /// `field_data` items by `name`, their `values` joined with ``ChannelMapping/valuesSeparator``
        /// (`facebook-field-data`).
        public static let facebookFieldData = Format(name: "facebook-field-data")
        /// Rows of an import file; rules address column headers, and empty cells count as missing (`csv`).
        ///
        /// On the message path the body is a JSON object from header to cell text.
        public static let csv = Format(name: "csv")

        /// Every known format.
        static let all: [Format] = [.flatJSON, .googleAds, .facebookFieldData, .csv]

        /// The ``name``.
        public var description: String { self.name }
    }

    /// The connector's name, which is also its folder under `connectors/`, for example `google-ads`.
    ///
    /// It prefixes ``DecodedLead/idempotencyKey``.
    public let channel: String
    /// How payloads are laid out.
    public let format: Format
    /// The `<channel>` segment of the routing key `inbound.<channel>.<source>`, which also becomes
    /// ``RapportCore/LeadSubmission/channel``.
    ///
    /// Defaults to `import` for ``Format/csv`` mappings and to ``channel`` otherwise; ad platforms set `ads`.
    public var routingChannel: String
    /// The payload field holding the platform's own lead id, if the channel has one.
    ///
    /// When set, the field is required, and its value becomes ``DecodedLead/platformLeadID``.
    public let idempotencyKey: String?
    /// The payload field that marks test leads (`is_test`), if the channel has one.
    public let testFlag: String?
    /// The payload field that must equal the configured shared key (`google_key`), if the channel has one.
    ///
    /// The field is never copied into the submission.
    public let keyField: String?
    /// ISO country code for phone numbers written without an international prefix. Defaults to `"CN"`.
    public var defaultPhoneRegion: String
    /// The contact fields of which at least one must hold a valid value (`phone`, `email`).
    ///
    /// Defaults to both. An empty list accepts leads without any contact; see `connectors/README.md`.
    public let requiredAny: [String]
    /// Whether payload fields no rule used are copied into ``RapportCore/LeadSubmission/fields``.
    ///
    /// Defaults to `true` (`"extra": "fields"`), so nothing a publisher sends is lost.
    public let keepsUnmappedFields: Bool
    /// Payload fields that are never copied into the submission (`drop`).
    public let droppedFields: Set<String>
    /// The separator for multi-valued fields (Lead Ads `values` arrays, repeated Google columns).
    ///
    /// Defaults to `", "`.
    public let valuesSeparator: String
    /// The rules, by target.
    let rules: [MappingTarget: MappingRule]

    /// The submission fields this mapping fills, as written in the mapping (`name`, `fields.birth_date`, …), sorted.
    public var targets: [String] {
        self.rules.keys.map(\.key).sorted()
    }

    init(
        channel: String,
        format: Format,
        routingChannel: String,
        idempotencyKey: String?,
        testFlag: String?,
        keyField: String?,
        defaultPhoneRegion: String,
        requiredAny: [String],
        keepsUnmappedFields: Bool,
        droppedFields: Set<String>,
        valuesSeparator: String,
        rules: [MappingTarget: MappingRule]
    ) {
        self.channel = channel
        self.format = format
        self.routingChannel = routingChannel
        self.idempotencyKey = idempotencyKey
        self.testFlag = testFlag
        self.keyField = keyField
        self.defaultPhoneRegion = defaultPhoneRegion
        self.requiredAny = requiredAny
        self.keepsUnmappedFields = keepsUnmappedFields
        self.droppedFields = droppedFields
        self.valuesSeparator = valuesSeparator
        self.rules = rules
    }
}

// MARK: - Rule model

/// A submission field a rule fills.
enum MappingTarget: Hashable, Sendable {
    case name, phone, email, company, address, message, submittedAt
    /// The whole `utm` object.
    case utmObject
    /// The whole `fields` object (merged under the other `fields` entries).
    case fieldsObject
    /// One key of `utm`.
    case utm(String)
    /// One key of `fields`.
    case field(String)

    /// Parses a key of the mapping's `fields` object.
    init?(key: String) {
        switch key {
        case "name": self = .name
        case "phone": self = .phone
        case "email": self = .email
        case "company": self = .company
        case "address": self = .address
        case "message": self = .message
        case "submitted_at": self = .submittedAt
        case "utm": self = .utmObject
        case "fields": self = .fieldsObject
        default:
            if key.hasPrefix("utm."), key.count > 4 {
                self = .utm(String(key.dropFirst(4)))
            } else if key.hasPrefix("fields."), key.count > 7 {
                self = .field(String(key.dropFirst(7)))
            } else {
                return nil
            }
        }
    }

    /// The key as written in a mapping.
    var key: String {
        switch self {
        case .name: return "name"
        case .phone: return "phone"
        case .email: return "email"
        case .company: return "company"
        case .address: return "address"
        case .message: return "message"
        case .submittedAt: return "submitted_at"
        case .utmObject: return "utm"
        case .fieldsObject: return "fields"
        case .utm(let key): return "utm." + key
        case .field(let key): return "fields." + key
        }
    }

    /// The short name used for `raw_<name>` when a value is kept raw (`phone`, `birth_date`).
    var rawName: String {
        switch self {
        case .utm(let key), .field(let key): return key
        default: return self.key
        }
    }

    /// One of the plain-text submission properties.
    var isText: Bool {
        switch self {
        case .name, .phone, .email, .company, .address, .message: return true
        default: return false
        }
    }

    /// Accepts `date_format`.
    var acceptsDates: Bool {
        switch self {
        case .submittedAt, .utm, .field: return true
        default: return false
        }
    }

    /// The order in which the fixed targets are evaluated (the first failure wins), the same order in which
    /// ``RapportCore/WebFormDecoder`` reads its keys. `utm.*` and `fields.*` follow, sorted by key.
    static let fixedOrder: [MappingTarget] = [
        .name, .company, .address, .message, .email, .phone, .submittedAt, .utmObject, .fieldsObject,
    ]
}

/// How one target (or one part of a `join`/`from` list) gets its value.
struct MappingRule: Hashable, Sendable {
    enum Source: Hashable, Sendable {
        /// One payload field.
        case field(String)
        /// The first of these that has a value.
        case firstOf([MappingRule])
        /// All of these that have a value, joined.
        case join([MappingRule], separator: String)
        /// No source: only `default`.
        case none
    }

    struct Split: Hashable, Sendable {
        var separator: String
        /// Which piece; negative counts from the end (`-1` is the last).
        var index: Int
    }

    enum Transform: String, Hashable, Sendable, CaseIterable {
        case trim
        case lowercase
        case uppercase
        case collapseSpaces = "collapse_spaces"
    }

    var source: Source
    var split: Split?
    var transforms: [Transform] = []
    /// Empty: no date parsing (except for `submitted_at`, which defaults to ISO 8601 or epoch seconds).
    var dateFormats: [MappingDateFormat] = []
    /// The offset for date patterns without a zone. Defaults to `0` (UTC).
    var offsetSeconds = 0
    var defaultValue: JSONValue?
    var required = false
    var keepsRawOnInvalid = false
    /// Where the rule is in the mapping, for messages.
    var path: String

    /// Every payload field the rule may read.
    var sourceNames: Set<String> {
        switch self.source {
        case .field(let name): return [name]
        case .firstOf(let rules), .join(let rules, _): return rules.reduce(into: []) { $0.formUnion($1.sourceNames) }
        case .none: return []
        }
    }

    /// The first payload field the rule reads, for naming a failed field.
    var firstSourceName: String? {
        switch self.source {
        case .field(let name): return name
        case .firstOf(let rules), .join(let rules, _):
            for rule in rules {
                if let name = rule.firstSourceName { return name }
            }
            return nil
        case .none: return nil
        }
    }
}
