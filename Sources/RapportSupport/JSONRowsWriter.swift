/// Writes a JSON array of flat objects (rows) straight to UTF-8, for `jsonb_to_recordset`.
///
/// Building a ``JSONValue`` per row costs a dictionary, a key sort and a copy per field; batches of
/// hundreds of rows per transaction make that the ingest path's largest Swift cost.
public struct JSONRowsWriter: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "[")]
    private var rowOpen = false
    private var firstField = true
    public private(set) var count = 0

    public init(capacity: Int = 4096) { self.bytes.reserveCapacity(capacity) }

    public mutating func beginRow() {
        if self.count > 0 { self.bytes.append(UInt8(ascii: ",")) }
        self.bytes.append(UInt8(ascii: "{"))
        self.rowOpen = true
        self.firstField = true
        self.count += 1
    }

    public mutating func endRow() {
        self.bytes.append(UInt8(ascii: "}"))
        self.rowOpen = false
    }

    private mutating func key(_ key: StaticString) {
        if !self.firstField { self.bytes.append(UInt8(ascii: ",")) }
        self.firstField = false
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        self.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// A string field; `nil` writes JSON null.
    public mutating func field(_ key: StaticString, _ value: String?) {
        self.key(key)
        if let value { JSONValue.writeEscaped(value, into: &self.bytes) } else { self.bytes.append(contentsOf: "null".utf8) }
    }

    public mutating func field(_ key: StaticString, _ value: Int) {
        self.key(key)
        self.bytes.append(contentsOf: String(value).utf8)
    }

    /// A nested JSON value (written as JSON, for `jsonb` columns).
    public mutating func field(_ key: StaticString, json value: JSONValue) {
        self.key(key)
        value.write(into: &self.bytes)
    }

    /// A field whose value is already JSON text.
    public mutating func field(_ key: StaticString, rawJSON: String) {
        self.key(key)
        self.bytes.append(contentsOf: rawJSON.utf8)
    }

    /// The array as text.
    public func finish() -> String {
        precondition(!self.rowOpen, "a row is still open")
        var b = self.bytes
        b.append(UInt8(ascii: "]"))
        return String(decoding: b, as: UTF8.self)
    }
}
