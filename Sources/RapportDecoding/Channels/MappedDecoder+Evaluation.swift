import Foundation
import RapportCore
import RapportSupport

/// A payload flattened to the names a mapping's rules use.
///
/// - `flat-json`, `csv`: the object's top-level keys (for `csv`, header names).
/// - `google-ads`: top-level keys, plus each `user_column_data` item by its `column_id`.
/// - `facebook-field-data`: top-level keys, plus each `field_data` item by its `name`, `values` joined.
///
/// When a list item's name equals a top-level key, the top-level key keeps the name and the item is
/// addressed as `user_column_data.<column_id>` or `field_data.<name>`.
struct MappingPayload {
    /// Addressable values by name.
    var values: [String: JSONValue]
    /// Whether blank strings are left out when unused fields are copied (`csv`: an empty cell is no value).
    var skipsBlankExtras: Bool

    init(_ object: [String: JSONValue], mapping: ChannelMapping) throws(InboundRejection) {
        self.skipsBlankExtras = mapping.format == .csv
        switch mapping.format {
        case .googleAds:
            self.values = object
            self.values.removeValue(forKey: "user_column_data")
            try self.addItems(
                object["user_column_data"], list: "user_column_data", nameKey: "column_id", valueKey: "string_value",
                separator: mapping.valuesSeparator)
        case .facebookFieldData:
            self.values = object
            self.values.removeValue(forKey: "field_data")
            try self.addItems(
                object["field_data"], list: "field_data", nameKey: "name", valueKey: "values",
                separator: mapping.valuesSeparator)
        default:
            self.values = object
        }
    }

    /// Adds `{name, value}` items; repeated names are joined with `separator`.
    private mutating func addItems(
        _ list: JSONValue?, list listName: String, nameKey: String, valueKey: String, separator: String
    ) throws(InboundRejection) {
        let items: [JSONValue]
        switch list {
        case nil, .null?:
            return
        case .array(let elements)?:
            items = elements
        case let other?:
            throw MappingEvaluation.invalidField(listName, "must be an array, but is \(InboundChecks.kind(of: other))")
        }
        let topLevel = Set(self.values.keys)
        var added: [String: String] = [:]
        for (index, item) in items.enumerated() {
            guard case .object(let members) = item else {
                throw MappingEvaluation.invalidField(
                    listName, "item \(index) must be an object, but is \(InboundChecks.kind(of: item))")
            }
            guard case .string(let name)? = members[nameKey], !InboundChecks.isBlank(name) else {
                throw MappingEvaluation.invalidField(listName, "item \(index) has no '\(nameKey)'")
            }
            let text: String?
            switch members[valueKey] {
            case nil, .null?:
                text = nil
            case .string(let value)?:
                text = value
            case .number(let value)?:
                text = JSONValue.number(value).jsonString
            case .bool(let value)?:
                text = value ? "true" : "false"
            case .array(let elements)?:
                var parts: [String] = []
                for element in elements {
                    switch element {
                    case .string(let value): parts.append(value)
                    case .number(let value): parts.append(JSONValue.number(value).jsonString)
                    case .bool(let value): parts.append(value ? "true" : "false")
                    case .null: continue
                    default:
                        throw MappingEvaluation.invalidField(
                            listName, "item \(index) ('\(InboundChecks.excerpt(name))') has a nested value in '\(valueKey)'")
                    }
                }
                text = parts.isEmpty ? nil : parts.joined(separator: separator)
            case let other?:
                throw MappingEvaluation.invalidField(
                    listName,
                    "item \(index) ('\(InboundChecks.excerpt(name))') has '\(valueKey)' of the wrong type (\(InboundChecks.kind(of: other)))")
            }
            guard let text else { continue }
            let key = topLevel.contains(name) ? "\(listName).\(name)" : name
            if let previous = added[key] {
                added[key] = previous + separator + text
            } else {
                added[key] = text
            }
        }
        for (key, text) in added {
            self.values[key] = .string(text)
        }
    }
}

/// A value produced by a rule; `sourceName` is set when it came unchanged from one payload field.
struct MappingValue {
    var value: JSONValue
    var sourceName: String?
}

/// Applies a mapping's rules to one payload and assembles the lead.
struct MappingEvaluation {
    let record: MappingPayload
    let mapping: ChannelMapping
    /// Payload fields whose values a rule used; the rest are copied into `fields`.
    private var used: Set<String> = []
    /// `raw_<name>` values kept by `"on_invalid": "keep_raw"`.
    private var raw: [String: JSONValue] = [:]

    init(record: MappingPayload, mapping: ChannelMapping) {
        self.record = record
        self.mapping = mapping
    }

    // MARK: - Assembly

    mutating func lead(source: String, channel: String, messageID: String) throws(InboundRejection) -> DecodedLead {
        let platformLeadID = try self.platformLeadID()
        let isTest = try self.testFlag()

        let name = try self.text(.name)
        let company = try self.text(.company)
        let address = try self.text(.address)
        let message = try self.text(.message)
        let email = try self.text(.email)
        let phone = try self.text(.phone)
        let submittedAt = try self.submittedAt()
        var utm = try self.object(.utmObject) ?? [:]
        var fields = try self.object(.fieldsObject) ?? [:]

        let keyed = self.mapping.rules.keys.compactMap { target -> (String, MappingTarget)? in
            switch target {
            case .utm, .field: return (target.key, target)
            default: return nil
            }
        }.sorted { $0.0 < $1.0 }
        for (_, target) in keyed {
            guard let value = try self.keyedValue(target) else { continue }
            switch target {
            case .utm(let key): utm[key] = value
            case .field(let key): fields[key] = value
            default: break
            }
        }

        // Contacts, normalized exactly as WebFormDecoder does.
        let normalizedPhone = Normalize.phone(phone?.text, defaultRegion: self.mapping.defaultPhoneRegion)
        let normalizedEmail = Normalize.email(email?.text)
        let phoneGiven = Normalize.text(phone?.text) != nil
        let emailGiven = Normalize.text(email?.text) != nil
        let required = Set(self.mapping.requiredAny)
        let satisfied =
            required.isEmpty || (required.contains("phone") && normalizedPhone != nil)
            || (required.contains("email") && normalizedEmail != nil)
        guard satisfied else {
            throw Self.missingContact(
                required: required,
                phone: phoneGiven ? phone : nil,
                email: emailGiven ? email : nil)
        }

        if self.mapping.keepsUnmappedFields {
            var excluded = self.mapping.droppedFields
            for name in [self.mapping.keyField, self.mapping.idempotencyKey, self.mapping.testFlag] {
                if let name { excluded.insert(name) }
            }
            let referenced = self.mapping.rules.values.reduce(into: Set<String>()) { $0.formUnion($1.sourceNames) }
            for (key, value) in self.record.values
            where !self.used.contains(key) && !excluded.contains(key) && fields[key] == nil {
                // A mapped field without a value has nothing to keep; an alternative that went unused does.
                if referenced.contains(key), !Self.isPresent(value) { continue }
                if self.record.skipsBlankExtras, case .string(let text) = value, InboundChecks.isBlank(text) { continue }
                fields[key] = value
            }
        }
        for (key, value) in self.raw {
            fields[key] = value
        }
        if phoneGiven, normalizedPhone == nil, let phone { fields["raw_phone"] = phone.raw }
        if emailGiven, normalizedEmail == nil, let email { fields["raw_email"] = email.raw }

        for key in DecodedLead.reservedKeys {
            fields.removeValue(forKey: key)
        }
        if let platformLeadID { fields[DecodedLead.platformLeadIDKey] = .string(platformLeadID) }
        if self.mapping.testFlag != nil { fields[DecodedLead.isTestKey] = .bool(isTest) }

        let submission = LeadSubmission(
            source: source,
            channel: channel,
            messageID: messageID,
            name: Normalize.name(name?.text),
            phone: normalizedPhone,
            email: normalizedEmail,
            company: Normalize.text(company?.text),
            address: Normalize.text(address?.text),
            message: Normalize.text(message?.text),
            submittedAt: submittedAt,
            utm: utm,
            fields: fields)
        return DecodedLead(
            submission: submission, connector: self.mapping.channel, platformLeadID: platformLeadID, isTest: isTest)
    }

    // MARK: - Special fields

    /// Longest accepted platform lead id; the ledger indexes it.
    private static let maxLeadIDLength = 256

    private mutating func platformLeadID() throws(InboundRejection) -> String? {
        guard let field = self.mapping.idempotencyKey else { return nil }
        switch self.record.values[field] {
        case .string(let text)? where !InboundChecks.isBlank(text):
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard id.count <= Self.maxLeadIDLength else {
                throw Self.invalidField(field, "is longer than \(Self.maxLeadIDLength) characters")
            }
            return id
        case .number(let number)? where number.isFinite && number >= 0 && number == number.rounded(.towardZero):
            return JSONValue.number(number).jsonString
        case nil, .null?, .string?:
            throw Self.invalidField(field, "is required: it holds the platform's lead id, the idempotency key")
        case let other?:
            throw Self.invalidField(field, "must be a string or a non-negative integer, but is \(InboundChecks.kind(of: other))")
        }
    }

    private func testFlag() throws(InboundRejection) -> Bool {
        guard let field = self.mapping.testFlag else { return false }
        switch self.record.values[field] {
        case nil, .null?:
            return false
        case .bool(let flag)?:
            return flag
        case .number(let number)? where number == 0 || number == 1:
            return number == 1
        case .string(let text)?:
            switch text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
            case "true", "1", "yes", "y": return true
            case "false", "0", "no", "n", "": return false
            default: throw Self.invalidField(field, "value '\(InboundChecks.excerpt(text))' is not true or false")
            }
        case let other?:
            throw Self.invalidField(field, "must be true or false, but is \(InboundChecks.kind(of: other))")
        }
    }

    // MARK: - Targets

    /// A contact or text target's value before normalization, and what to keep as `raw_<name>`.
    struct TextValue {
        var text: String
        var raw: JSONValue
        var sourceName: String?
    }

    private mutating func text(_ target: MappingTarget) throws(InboundRejection) -> TextValue? {
        guard let rule = self.mapping.rules[target], let result = try self.evaluate(rule) else { return nil }
        switch result.value {
        case .string(let text):
            return TextValue(text: text, raw: result.value, sourceName: result.sourceName)
        case .number(let number) where target == .phone:
            if number.isFinite, number >= 0, number == number.rounded(.towardZero) {
                return TextValue(text: JSONValue.number(number).jsonString, raw: result.value, sourceName: result.sourceName)
            }
            try self.reject(rule, result, target, "must be a string or a non-negative integer, but is a fractional or negative number")
            return nil
        case let other:
            let expected = target == .phone ? "a string or an integer" : "a string or null"
            try self.reject(rule, result, target, "must be \(expected), but is \(InboundChecks.kind(of: other))")
            return nil
        }
    }

    private mutating func object(_ target: MappingTarget) throws(InboundRejection) -> [String: JSONValue]? {
        guard let rule = self.mapping.rules[target], let result = try self.evaluate(rule) else { return nil }
        if case .object(let members) = result.value { return members }
        try self.reject(rule, result, target, "must be an object, but is \(InboundChecks.kind(of: result.value))")
        return nil
    }

    private mutating func submittedAt() throws(InboundRejection) -> Date? {
        guard let rule = self.mapping.rules[.submittedAt], let result = try self.evaluate(rule) else { return nil }
        return try self.date(rule, result, .submittedAt)?.date
    }

    /// A `utm.<key>` or `fields.<key>` value: as sent, or as date text when the rule has date formats.
    private mutating func keyedValue(_ target: MappingTarget) throws(InboundRejection) -> JSONValue? {
        guard let rule = self.mapping.rules[target], let result = try self.evaluate(rule) else { return nil }
        guard !rule.dateFormats.isEmpty else { return result.value }
        return try self.date(rule, result, target).map { .string($0.fieldText) }
    }

    private mutating func date(_ rule: MappingRule, _ result: MappingValue, _ target: MappingTarget) throws(InboundRejection) -> MappingParsedDate? {
        for format in rule.dateFormats {
            if let date = format.read(result.value, offsetSeconds: rule.offsetSeconds) { return date }
        }
        let names = rule.dateFormats.map(\.name).joined(separator: " or ")
        let problem: String
        switch result.value {
        case .string(let text):
            problem = "value '\(InboundChecks.excerpt(text))' is not a valid date in the format \(names)"
        case .number(let number):
            let epochs = rule.dateFormats.filter { $0 == .epochSeconds || $0 == .epochMillis || $0 == .excelSerial }
            if epochs.isEmpty {
                problem = "must be a date string in the format \(names), but is a number"
            } else if epochs == [.epochSeconds], number >= 100_000_000_000 {
                problem = "is too large for epoch seconds (milliseconds were probably sent)"
            } else {
                problem = "number \(JSONValue.number(number).jsonString) is not a valid \(epochs.map(\.name).joined(separator: " or ")) value"
            }
        case let other:
            problem = "must be a date string or number, but is \(InboundChecks.kind(of: other))"
        }
        try self.reject(rule, result, target, problem)
        return nil
    }

    // MARK: - Rules

    /// Runs a rule: source (field, first of, join), split, transforms, default, required.
    private mutating func evaluate(_ rule: MappingRule) throws(InboundRejection) -> MappingValue? {
        var result: MappingValue?
        switch rule.source {
        case .field(let name):
            if let value = self.record.values[name], Self.isPresent(value) {
                self.used.insert(name)
                result = MappingValue(value: value, sourceName: name)
            }
        case .firstOf(let parts):
            for part in parts {
                if let value = try self.evaluate(part) {
                    result = value
                    break
                }
            }
        case .join(let parts, let separator):
            var pieces: [String] = []
            for part in parts {
                guard let value = try self.evaluate(part) else { continue }
                let piece = try Self.text(of: value, rule: part).trimmingCharacters(in: .whitespacesAndNewlines)
                if !piece.isEmpty { pieces.append(piece) }
            }
            if !pieces.isEmpty { result = MappingValue(value: .string(pieces.joined(separator: separator)), sourceName: nil) }
        case .none:
            break
        }

        if let current = result, rule.split != nil || !rule.transforms.isEmpty {
            var text = try Self.text(of: current, rule: rule)
            if let split = rule.split {
                text = Self.piece(of: text, split) ?? ""
            }
            for transform in rule.transforms {
                text = Self.apply(transform, to: text)
            }
            result = InboundChecks.isBlank(text) ? nil : MappingValue(value: .string(text), sourceName: nil)
        }

        if result == nil, let defaultValue = rule.defaultValue {
            result = MappingValue(value: defaultValue, sourceName: nil)
        }
        if result == nil, rule.required {
            let field = rule.firstSourceName ?? rule.path
            throw Self.invalidField(field, "is required but missing or empty")
        }
        return result
    }

    /// Rejects the value, or keeps it as `raw_<name>` when the rule says `"on_invalid": "keep_raw"`.
    private mutating func reject(
        _ rule: MappingRule, _ result: MappingValue, _ target: MappingTarget, _ problem: String
    ) throws(InboundRejection) {
        if rule.keepsRawOnInvalid {
            self.raw["raw_" + target.rawName] = result.value
            return
        }
        let field = result.sourceName ?? rule.firstSourceName ?? target.key
        if field == target.key {
            throw Self.invalidField(field, problem)
        }
        throw InboundRejection(
            code: .invalidField, reason: "Field '\(field)' (mapped to \(target.key)) \(problem).", field: field)
    }

    private static func isPresent(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .string(let text): return !InboundChecks.isBlank(text)
        default: return true
        }
    }

    /// A value as text for join, split and transforms: strings as they are, numbers and booleans printed.
    private static func text(of value: MappingValue, rule: MappingRule) throws(InboundRejection) -> String {
        switch value.value {
        case .string(let text): return text
        case .number(let number): return JSONValue.number(number).jsonString
        case .bool(let flag): return flag ? "true" : "false"
        case let other:
            let field = value.sourceName ?? rule.firstSourceName ?? rule.path
            throw Self.invalidField(field, "must be text, but is \(InboundChecks.kind(of: other))")
        }
    }

    /// The `index`-th non-empty, trimmed piece of `text` split at `separator`; negative counts from the end.
    private static func piece(of text: String, _ split: MappingRule.Split) -> String? {
        let pieces = text.components(separatedBy: split.separator)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        let index = split.index >= 0 ? split.index : pieces.count + split.index
        return pieces.indices.contains(index) ? pieces[index] : nil
    }

    private static func apply(_ transform: MappingRule.Transform, to text: String) -> String {
        switch transform {
        case .trim: return text.trimmingCharacters(in: .whitespacesAndNewlines)
        case .lowercase: return text.lowercased()
        case .uppercase: return text.uppercased()
        case .collapseSpaces: return text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        }
    }

    // MARK: - Rejections

    static func invalidField(_ field: String, _ problem: String) -> InboundRejection {
        InboundRejection(code: .invalidField, reason: "Field '\(field)' \(problem).", field: field)
    }

    /// WebFormDecoder's wording for the phone/email case; the field is the missing Rapport contact.
    private static func missingContact(required: Set<String>, phone: TextValue?, email: TextValue?) -> InboundRejection {
        func origin(_ value: TextValue, _ target: String) -> String {
            guard let source = value.sourceName, source != target else { return "" }
            return " (from \(source))"
        }
        let phonePart = phone.map { "phone '\(InboundChecks.excerpt($0.text))'\(origin($0, "phone")) is not a valid phone number" }
        let emailPart = email.map { "email '\(InboundChecks.excerpt($0.text))'\(origin($0, "email")) is not a valid email address" }
        let wantsPhone = required.contains("phone")
        let wantsEmail = required.contains("email")

        switch (wantsPhone, wantsEmail) {
        case (true, false):
            return InboundRejection(
                code: .missingContact, reason: phonePart.map { $0 + "." } ?? "No phone number was given.", field: "phone")
        case (false, true):
            return InboundRejection(
                code: .missingContact, reason: emailPart.map { $0 + "." } ?? "No email address was given.", field: "email")
        default:
            switch (phonePart, emailPart) {
            case (let phone?, let email?):
                return InboundRejection(code: .missingContact, reason: "\(phone) and \(email).", field: "phone")
            case (let phone?, nil):
                return InboundRejection(code: .missingContact, reason: "\(phone) and no email was given.", field: "phone")
            case (nil, let email?):
                return InboundRejection(code: .missingContact, reason: "\(email) and no phone was given.", field: "email")
            case (nil, nil):
                return InboundRejection(
                    code: .missingContact, reason: "Neither a phone number nor an email address was given.",
                    field: "phone,email")
            }
        }
    }
}
