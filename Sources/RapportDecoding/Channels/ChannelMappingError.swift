import RapportCore
import RapportSupport
/// Why a mapping file could not be loaded, or why a ``MappedDecoder`` could not be built from it.
///
/// These are configuration errors, found once at start-up; a worker should refuse to start rather than
/// dead-letter every message. Per-message problems are ``RapportCore/InboundRejection``s instead.
public struct ChannelMappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. A struct, not an enum, so more can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile = "unreadable_file"
            case invalidJSON = "invalid_json"
            case invalidMapping = "invalid_mapping"
            case missingConfiguration = "missing_configuration"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The mapping file could not be read (`unreadable_file`).
        public static let unreadableFile = Code(.unreadableFile)
        /// The mapping file is not valid JSON, or its top level is not an object (`invalid_json`).
        public static let invalidJSON = Code(.invalidJSON)
        /// The mapping is valid JSON but breaks a rule of the mapping format (`invalid_mapping`).
        public static let invalidMapping = Code(.invalidMapping)
        /// The mapping needs a setting the decoder was not given, such as the shared key (`missing_configuration`).
        public static let missingConfiguration = Code(.missingConfiguration)

        /// The snake_case form, for example `invalid_mapping`.
        public var description: String { self.base.rawValue }
    }

    /// The kind of problem.
    public var code: Code
    /// Where in the mapping the problem is, as a dotted path such as `fields.name.join[1]`; empty for the
    /// mapping as a whole.
    public var path: String
    /// One human sentence.
    public var reason: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - path: Where in the mapping the problem is. Defaults to the mapping as a whole.
    ///   - reason: One human sentence.
    public init(code: Code, path: String = "", reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// The code, the path when there is one, then the reason.
    public var description: String {
        if self.path.isEmpty {
            return "\(self.code): \(self.reason)"
        }
        return "\(self.code) at \(self.path): \(self.reason)"
    }
}
