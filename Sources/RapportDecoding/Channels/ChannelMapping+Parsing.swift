import Foundation
import RapportCore
import RapportSupport

extension ChannelMapping {
    /// Loads a mapping file, for example `connectors/google-ads/mapping.json`.
    ///
    /// - Parameter path: The file's path.
    /// - Throws: ``ChannelMappingError`` with code ``ChannelMappingError/Code/unreadableFile`` when the file
    ///   cannot be read, or any error of ``init(bytes:)``.
    public init(contentsOfFile path: String) throws(ChannelMappingError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ChannelMappingError(code: .unreadableFile, reason: "Cannot read mapping file '\(path)'.")
        }
        try self.init(bytes: Array(data))
    }

    /// Parses a mapping from the UTF-8 JSON text of a mapping file.
    ///
    /// - Parameter bytes: The file's contents.
    /// - Throws: ``ChannelMappingError`` with code ``ChannelMappingError/Code/invalidJSON`` when the text is
    ///   not a JSON object, or any error of ``init(json:)``.
    public init(bytes: [UInt8]) throws(ChannelMappingError) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch let error as JSONValue.ParseError {
            throw ChannelMappingError(code: .invalidJSON, reason: "Mapping is not valid JSON: \(error.reason).")
        } catch {
            throw ChannelMappingError(code: .invalidJSON, reason: "Mapping is not valid JSON.")
        }
        try self.init(json: value)
    }

    /// Builds a mapping from its parsed JSON.
    ///
    /// - Parameter json: The mapping document (a JSON object).
    /// - Throws: ``ChannelMappingError`` with code ``ChannelMappingError/Code/invalidMapping`` and the path of
    ///   the first problem: an unknown key, a value of the wrong type, an unknown format, target or
    ///   transform, an unsupported date pattern, a reserved `fields._…` target, or a `required_any` entry
    ///   that the mapping does not fill.
    public init(json: JSONValue) throws(ChannelMappingError) {
        guard let object = json.objectValue else {
            throw ChannelMappingError(code: .invalidJSON, reason: "Mapping must be a JSON object.")
        }
        try MappingFileParser.checkKeys(object, allowed: MappingFileParser.topLevelKeys, path: "")

        let channel = try MappingFileParser.requiredName(object, "channel", path: "")
        let formatName = try MappingFileParser.requiredName(object, "format", path: "")
        guard let format = Format.all.first(where: { $0.name == formatName }) else {
            throw MappingFileParser.invalid(
                "format",
                "unknown format '\(formatName)'; use one of \(Format.all.map(\.name).joined(separator: ", "))")
        }

        let routingChannel =
            try MappingFileParser.optionalName(object, "routing_channel", path: "")
            ?? (format == .csv ? "import" : channel)
        guard MappingFileParser.isRoutingSegment(routingChannel) else {
            throw MappingFileParser.invalid(
                object["routing_channel"] == nil ? "channel" : "routing_channel",
                "'\(routingChannel)' cannot be a routing-key segment (no dots, spaces, * or #)")
        }

        let idempotencyKey = try MappingFileParser.optionalName(object, "idempotency_key", path: "")
        let testFlag = try MappingFileParser.optionalName(object, "test_flag", path: "")
        let keyField = try MappingFileParser.optionalName(object, "key_field", path: "")

        let region = try MappingFileParser.optionalName(object, "default_phone_region", path: "") ?? "CN"
        guard region.count == 2, region.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw MappingFileParser.invalid("default_phone_region", "must be a two-letter ISO country code, such as CN or AU")
        }

        let keepsUnmapped: Bool
        switch object["extra"] {
        case nil, .string("fields")?: keepsUnmapped = true
        case .string("ignore")?: keepsUnmapped = false
        default: throw MappingFileParser.invalid("extra", "must be \"fields\" or \"ignore\"")
        }

        let dropped = Set(try MappingFileParser.stringList(object["drop"], path: "drop") ?? [])

        let valuesSeparator: String
        switch object["values_separator"] {
        case nil: valuesSeparator = ", "
        case .string(let separator)?: valuesSeparator = separator
        default: throw MappingFileParser.invalid("values_separator", "must be a string")
        }

        guard case .object(let ruleObjects)? = object["fields"], !ruleObjects.isEmpty else {
            throw MappingFileParser.invalid("fields", "must be a non-empty object from submission field to rule")
        }
        var rules: [MappingTarget: MappingRule] = [:]
        for key in ruleObjects.keys.sorted() {
            let path = "fields." + key
            guard let target = MappingTarget(key: key) else {
                throw MappingFileParser.invalid(
                    path,
                    "unknown target '\(key)'; use name, phone, email, company, address, message, submitted_at, "
                        + "utm, fields, utm.<key> or fields.<key>")
            }
            if case .field(let fieldKey) = target, fieldKey.hasPrefix("_") {
                throw MappingFileParser.invalid(path, "keys starting with '_' are reserved for Rapport (\(DecodedLead.reservedKeys.sorted().joined(separator: ", ")))")
            }
            var rule = try MappingFileParser.rule(ruleObjects[key]!, path: path, target: target)
            if target == .submittedAt, rule.dateFormats.isEmpty {
                rule.dateFormats = [.iso8601, .epochSeconds]
            }
            rules[target] = rule
        }

        let requiredAny: [String]
        if let list = try MappingFileParser.stringList(object["required_any"], path: "required_any") {
            requiredAny = list
            for (index, entry) in list.enumerated() {
                guard entry == "phone" || entry == "email" else {
                    throw MappingFileParser.invalid("required_any[\(index)]", "must be \"phone\" or \"email\", not '\(entry)'")
                }
                guard rules[MappingTarget(key: entry)!] != nil else {
                    throw MappingFileParser.invalid("required_any[\(index)]", "'\(entry)' is required but no rule fills it")
                }
            }
        } else {
            requiredAny = ["phone", "email"]
            guard rules[.phone] != nil || rules[.email] != nil else {
                throw MappingFileParser.invalid(
                    "required_any",
                    "defaults to phone and email, but the mapping fills neither; map one or set \"required_any\": []")
            }
        }

        self.init(
            channel: channel,
            format: format,
            routingChannel: routingChannel,
            idempotencyKey: idempotencyKey,
            testFlag: testFlag,
            keyField: keyField,
            defaultPhoneRegion: region.uppercased(),
            requiredAny: requiredAny,
            keepsUnmappedFields: keepsUnmapped,
            droppedFields: dropped,
            valuesSeparator: valuesSeparator,
            rules: rules)
    }
}

/// The pieces of mapping parsing, with error paths.
private enum MappingFileParser {
    static let topLevelKeys: Set<String> = [
        "channel", "format", "routing_channel", "idempotency_key", "test_flag", "key_field", "default_phone_region",
        "required_any", "extra", "drop", "values_separator", "fields", "description", "comment",
    ]
    static let ruleKeys: Set<String> = ["from", "join", "separator", "split", "transform", "default", "comment"]
    static let topRuleKeys: Set<String> = ["date_format", "timezone", "required", "on_invalid"]

    static func invalid(_ path: String, _ reason: String) -> ChannelMappingError {
        ChannelMappingError(code: .invalidMapping, path: path, reason: reason.prefix(1).uppercased() + reason.dropFirst() + ".")
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    static func checkKeys(_ object: [String: JSONValue], allowed: Set<String>, path: String) throws(ChannelMappingError) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            throw Self.invalid(Self.join(path, key), "unknown key '\(key)'")
        }
    }

    static func requiredName(_ object: [String: JSONValue], _ key: String, path: String) throws(ChannelMappingError) -> String {
        guard let name = try Self.optionalName(object, key, path: path) else {
            throw Self.invalid(Self.join(path, key), "is required")
        }
        return name
    }

    /// A non-blank string without surrounding whitespace.
    static func optionalName(_ object: [String: JSONValue], _ key: String, path: String) throws(ChannelMappingError) -> String? {
        switch object[key] {
        case nil:
            return nil
        case .string(let text)? where !text.isEmpty && text.trimmingCharacters(in: .whitespacesAndNewlines) == text:
            return text
        default:
            throw Self.invalid(Self.join(path, key), "must be a non-empty string without surrounding spaces")
        }
    }

    static func stringList(_ value: JSONValue?, path: String) throws(ChannelMappingError) -> [String]? {
        switch value {
        case nil:
            return nil
        case .array(let elements)?:
            var result: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let text) = element, !text.isEmpty else {
                    throw Self.invalid("\(path)[\(index)]", "must be a non-empty string")
                }
                result.append(text)
            }
            return result
        default:
            throw Self.invalid(path, "must be an array of strings")
        }
    }

    static func isRoutingSegment(_ text: String) -> Bool {
        !text.isEmpty && !text.contains(where: { $0 == "." || $0 == "*" || $0 == "#" || $0.isWhitespace })
    }

    /// Parses a rule. `target` is `nil` for a part of a `from`/`join` list.
    static func rule(_ value: JSONValue, path: String, target: MappingTarget?) throws(ChannelMappingError) -> MappingRule {
        switch value {
        case .string(let name):
            guard !name.isEmpty else { throw Self.invalid(path, "must name a payload field") }
            return MappingRule(source: .field(name), path: path)
        case .object(let object):
            return try Self.ruleObject(object, path: path, target: target)
        default:
            throw Self.invalid(path, "must be a payload field name or a rule object")
        }
    }

    private static func ruleObject(
        _ object: [String: JSONValue], path: String, target: MappingTarget?
    ) throws(ChannelMappingError) -> MappingRule {
        try Self.checkKeys(object, allowed: target == nil ? Self.ruleKeys : Self.ruleKeys.union(Self.topRuleKeys), path: path)

        var rule = MappingRule(source: .none, path: path)
        switch (object["from"], object["join"]) {
        case (.some, .some):
            throw Self.invalid(path, "has both 'from' and 'join'; use one (a 'from' list may contain a join)")
        case (let from?, nil):
            switch from {
            case .string(let name) where !name.isEmpty:
                rule.source = .field(name)
            case .array(let elements) where !elements.isEmpty:
                var parts: [MappingRule] = []
                for (index, element) in elements.enumerated() {
                    parts.append(try Self.rule(element, path: "\(path).from[\(index)]", target: nil))
                }
                rule.source = .firstOf(parts)
            default:
                throw Self.invalid(Self.join(path, "from"), "must be a field name or a non-empty list of names and rules")
            }
        case (nil, let join?):
            guard case .array(let elements) = join, !elements.isEmpty else {
                throw Self.invalid(Self.join(path, "join"), "must be a non-empty list of field names and rules")
            }
            var parts: [MappingRule] = []
            for (index, element) in elements.enumerated() {
                parts.append(try Self.rule(element, path: "\(path).join[\(index)]", target: nil))
            }
            let separator: String
            switch object["separator"] {
            case nil: separator = " "
            case .string(let text)?: separator = text
            default: throw Self.invalid(Self.join(path, "separator"), "must be a string")
            }
            rule.source = .join(parts, separator: separator)
        case (nil, nil):
            break
        }
        if object["separator"] != nil, object["join"] == nil {
            throw Self.invalid(Self.join(path, "separator"), "only applies to 'join'")
        }

        if let split = object["split"] {
            guard case .object(let splitObject) = split else {
                throw Self.invalid(Self.join(path, "split"), "must be an object {\"separator\": \" \", \"index\": 0}")
            }
            let splitPath = Self.join(path, "split")
            try Self.checkKeys(splitObject, allowed: ["separator", "index"], path: splitPath)
            guard case .string(let separator)? = splitObject["separator"], !separator.isEmpty else {
                throw Self.invalid(Self.join(splitPath, "separator"), "must be a non-empty string")
            }
            guard case .number(let index)? = splitObject["index"], index == index.rounded(.towardZero),
                abs(index) < 1000
            else {
                throw Self.invalid(Self.join(splitPath, "index"), "must be an integer (negative counts from the end)")
            }
            rule.split = MappingRule.Split(separator: separator, index: Int(index))
        }

        if let transform = object["transform"] {
            let names: [String]
            if case .string(let single) = transform {
                names = [single]
            } else {
                names = try Self.stringList(transform, path: Self.join(path, "transform")) ?? []
            }
            for (index, name) in names.enumerated() {
                guard let transform = MappingRule.Transform(rawValue: name) else {
                    throw Self.invalid(
                        "\(path).transform[\(index)]",
                        "unknown transform '\(name)'; use \(MappingRule.Transform.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                rule.transforms.append(transform)
            }
        }

        if let formats = object["date_format"] {
            guard let target, target.acceptsDates else {
                throw Self.invalid(Self.join(path, "date_format"), "only applies to submitted_at, utm.<key> and fields.<key>")
            }
            let names: [String]
            if case .string(let single) = formats {
                names = [single]
            } else {
                names = try Self.stringList(formats, path: Self.join(path, "date_format")) ?? []
            }
            guard !names.isEmpty else { throw Self.invalid(Self.join(path, "date_format"), "must not be empty") }
            for (index, name) in names.enumerated() {
                do throws(MappingDatePatternError) {
                    rule.dateFormats.append(try MappingDateFormat.parse(name))
                } catch {
                    let entryPath = formats.stringValue != nil ? Self.join(path, "date_format") : "\(path).date_format[\(index)]"
                    throw Self.invalid(entryPath, error.reason)
                }
            }
        }

        if let timezone = object["timezone"] {
            guard case .string(let text) = timezone, let offset = MappingDateFormat.utcOffset(text) else {
                throw Self.invalid(Self.join(path, "timezone"), "must be UTC or a fixed offset such as +08:00")
            }
            guard target == .submittedAt || !rule.dateFormats.isEmpty else {
                throw Self.invalid(Self.join(path, "timezone"), "only applies with date_format")
            }
            rule.offsetSeconds = offset
        }

        if let defaultValue = object["default"] {
            try Self.checkDefault(defaultValue, target: target, path: Self.join(path, "default"))
            rule.defaultValue = defaultValue
        }

        switch object["required"] {
        case nil: break
        case .bool(let flag)?: rule.required = flag
        default: throw Self.invalid(Self.join(path, "required"), "must be true or false")
        }

        switch object["on_invalid"] {
        case nil, .string("reject")?: break
        case .string("keep_raw")?: rule.keepsRawOnInvalid = true
        default: throw Self.invalid(Self.join(path, "on_invalid"), "must be \"reject\" or \"keep_raw\"")
        }

        if case .none = rule.source, rule.defaultValue == nil {
            throw Self.invalid(path, "needs 'from', 'join' or 'default'")
        }
        return rule
    }

    private static func checkDefault(_ value: JSONValue, target: MappingTarget?, path: String) throws(ChannelMappingError) {
        switch (target, value) {
        case (_, .null):
            throw Self.invalid(path, "must not be null (leave 'default' out instead)")
        case (nil, .string), (nil, .number), (nil, .bool):
            return
        case (nil, _):
            throw Self.invalid(path, "of a 'from'/'join' part must be a string, number or boolean")
        case (let target?, .string) where target.isText:
            return
        case (let target?, _) where target.isText:
            throw Self.invalid(path, "of \(target.key) must be a string")
        case (.submittedAt?, .string), (.submittedAt?, .number):
            return
        case (.submittedAt?, _):
            throw Self.invalid(path, "of submitted_at must be a date string or a number")
        case (.utmObject?, .object), (.fieldsObject?, .object):
            return
        case (.utmObject?, _), (.fieldsObject?, _):
            throw Self.invalid(path, "must be an object")
        default:
            return
        }
    }
}
