import RapportCore
import RapportSupport
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An invalid byte sequence met while decoding: where its U+FFFD replacement starts in the decoded stream,
/// and where the bad bytes are in the file.
struct ImportDecodingIssue: Hashable, Sendable {
    var decodedOffset: Int64
    var fileOffset: Int64
}

/// Turns chunks of file bytes into UTF-8, chunk by chunk, carrying an incomplete multibyte sequence at
/// the end of one chunk over to the next.
///
/// Without a byte-order mark or an explicit encoding it starts undecided: ASCII passes through (it is the
/// same in UTF-8, GB18030 and Windows-1252), and the first non-ASCII bytes decide (see ``detect(_:from:isFinal:)``).
/// Invalid sequences become U+FFFD and are recorded in ``issues``, so that the reader can report the row
/// they fall in.
final class ImportTextDecoder {
    private enum Mode {
        case undecided
        case utf8
        case converter(ImportIconv)
    }

    /// Bytes after the first non-ASCII byte that the detection looks at, when the file has that many.
    static let decisionWindow = 512

    let path: String
    /// The encoding in use; `.utf8` while still undecided.
    private(set) var encoding: ImportTextEncoding
    private var mode: Mode
    private var carry: [UInt8] = []
    private var carryFileOffset: Int64 = 0
    /// Decoded bytes produced so far.
    private(set) var decodedCount: Int64 = 0
    /// Invalid sequences not yet claimed by a row, oldest first.
    private(set) var issues: [ImportDecodingIssue] = []
    private var issuesHead = 0

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - path: The file's path, for errors.
    ///   - encoding: A known encoding (from a byte-order mark or the configuration), or `nil` to detect.
    init(path: String, encoding: ImportTextEncoding?) throws {
        self.path = path
        switch encoding {
        case nil:
            self.encoding = .utf8
            self.mode = .undecided
        case .some(.utf8):
            self.encoding = .utf8
            self.mode = .utf8
        case .some(let other):
            self.encoding = other
            self.mode = .converter(try ImportIconv(from: other, path: path))
        }
    }

    /// Whether the encoding is known yet (a file that is all ASCII so far is not decided).
    var isDecided: Bool {
        if case .undecided = self.mode { return false }
        return true
    }

    /// Removes and returns the issues whose replacement starts before `decodedOffset`.
    func takeIssues(before decodedOffset: Int64) -> [ImportDecodingIssue] {
        var taken: [ImportDecodingIssue] = []
        while self.issuesHead < self.issues.count && self.issues[self.issuesHead].decodedOffset < decodedOffset {
            taken.append(self.issues[self.issuesHead])
            self.issuesHead += 1
        }
        if self.issuesHead == self.issues.count {
            self.issues.removeAll(keepingCapacity: true)
            self.issuesHead = 0
        }
        return taken
    }

    /// Decodes `input`, the file's bytes starting at `fileOffset`, appending UTF-8 to `output`.
    ///
    /// - Parameters:
    ///   - input: The next bytes of the file.
    ///   - fileOffset: Offset of `input[0]` in the file.
    ///   - isFinal: Whether this is the end of the file; an incomplete sequence is then invalid.
    ///   - output: Receives the decoded UTF-8.
    func decode(_ input: [UInt8], fileOffset: Int64, isFinal: Bool, into output: inout [UInt8]) throws {
        let bytes: [UInt8]
        let base: Int64
        if self.carry.isEmpty {
            bytes = input
            base = fileOffset
        } else {
            bytes = self.carry + input
            base = self.carryFileOffset
            self.carry.removeAll()
        }
        let startCount = output.count
        defer { self.decodedCount += Int64(output.count - startCount) }
        try self.decode(bytes, from: 0, base: base, isFinal: isFinal, startCount: startCount, into: &output)
    }

    private func decode(
        _ bytes: [UInt8], from start: Int, base: Int64, isFinal: Bool, startCount: Int, into output: inout [UInt8]
    ) throws {
        switch self.mode {
        case .utf8:
            self.passUTF8(bytes, from: start, base: base, isFinal: isFinal, startCount: startCount, into: &output)
        case .converter(let converter):
            try self.convert(
                bytes, from: start, base: base, isFinal: isFinal, using: converter, startCount: startCount,
                into: &output)
        case .undecided:
            guard let first = ImportTextDecoder.firstNonASCII(bytes, from: start) else {
                output.append(contentsOf: bytes[start...])
                return
            }
            output.append(contentsOf: bytes[start..<first])
            if bytes.count - first < ImportTextDecoder.decisionWindow && !isFinal {
                self.carry = Array(bytes[first...])
                self.carryFileOffset = base + Int64(first)
                return
            }
            let detected = ImportTextDecoder.detect(bytes, from: first, isFinal: isFinal)
            self.encoding = detected
            self.mode = detected == .utf8 ? .utf8 : .converter(try ImportIconv(from: detected, path: self.path))
            try self.decode(bytes, from: first, base: base, isFinal: isFinal, startCount: startCount, into: &output)
        }
    }

    // MARK: UTF-8

    private func passUTF8(
        _ bytes: [UInt8], from start: Int, base: Int64, isFinal: Bool, startCount: Int, into output: inout [UInt8]
    ) {
        bytes.withUnsafeBufferPointer { buffer in
            let end = buffer.count
            var runStart = start
            var index = start
            while index < end {
                index = ImportTextDecoder.skipASCII(buffer, from: index)
                if index >= end { break }
                let length = ImportTextDecoder.utf8SequenceLength(buffer, at: index)
                if length > 0 {
                    index += length
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
                if length == 0 && !isFinal {
                    self.carry = Array(buffer[index...])
                    self.carryFileOffset = base + Int64(index)
                    return
                }
                self.recordIssue(
                    decodedOffset: self.decodedCount + Int64(output.count - startCount),
                    fileOffset: base + Int64(index))
                output.append(contentsOf: ImportTextDecoder.replacement)
                index += 1
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<end]))
        }
    }

    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    private func recordIssue(decodedOffset: Int64, fileOffset: Int64) {
        self.issues.append(ImportDecodingIssue(decodedOffset: decodedOffset, fileOffset: fileOffset))
    }

    /// Index of the first byte ≥ 0x80 at or after `index`, or the end.
    static func skipASCII(_ buffer: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
        var index = index
        let end = buffer.count
        if let base = buffer.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= end {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
        }
        while index < end && buffer[index] < 0x80 {
            index += 1
        }
        return index
    }

    static func firstNonASCII(_ bytes: [UInt8], from start: Int) -> Int? {
        let index = bytes.withUnsafeBufferPointer { ImportTextDecoder.skipASCII($0, from: start) }
        return index < bytes.count ? index : nil
    }

    /// Length of the well-formed UTF-8 sequence at `index` (1–4), `0` if the buffer ends inside a sequence
    /// that is well-formed so far, or `-1` if the bytes are ill-formed (Unicode Table 3-7).
    static func utf8SequenceLength(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = buffer[index]
        if lead < 0x80 { return 1 }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF:
            length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xED:
            length = 3
            high = 0x9F
        case 0xE1...0xEC, 0xEE...0xEF:
            length = 3
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF4:
            length = 4
            high = 0x8F
        case 0xF1...0xF3:
            length = 4
        default:
            return -1
        }
        for offset in 1..<length {
            guard index + offset < buffer.count else { return 0 }
            let byte = buffer[index + offset]
            if offset == 1 {
                guard byte >= low && byte <= high else { return -1 }
            } else {
                guard byte >= 0x80 && byte <= 0xBF else { return -1 }
            }
        }
        return length
    }

    /// Detects the encoding from the bytes from `start` (the first non-ASCII byte) on.
    ///
    /// - UTF-8 if they are well-formed UTF-8, or mostly so (a UTF-8 file with a stray bad byte; GBK text is
    ///   rarely well-formed UTF-8 for more than a character).
    /// - Otherwise GB18030 if they read as GBK/GB18030 text: runs of double-byte characters whose second
    ///   byte is mostly ≥ 0x80, as in all GB2312 characters.
    /// - Otherwise Windows-1252: isolated high bytes followed by ASCII (`Müller`, `café,`) are a Western
    ///   single-byte export, which GB18030 would silently turn into Chinese characters.
    static func detect(_ bytes: [UInt8], from start: Int, isFinal: Bool) -> ImportTextEncoding {
        bytes.withUnsafeBufferPointer { buffer in
            var valid = 0
            var invalid = 0
            var index = start
            while index < buffer.count {
                index = ImportTextDecoder.skipASCII(buffer, from: index)
                if index >= buffer.count { break }
                let length = ImportTextDecoder.utf8SequenceLength(buffer, at: index)
                if length > 0 {
                    valid += 1
                    index += length
                } else if length == 0 && !isFinal {
                    break
                } else {
                    invalid += 1
                    index += 1
                }
            }
            if invalid == 0 || valid >= 2 * invalid {
                return .utf8
            }
            var characters = 0
            var asciiTrails = 0
            var bad = 0
            index = start
            let end = buffer.count
            while index < end {
                let lead = buffer[index]
                if lead < 0x80 {
                    index += 1
                    continue
                }
                guard lead >= 0x81 && lead <= 0xFE else {
                    bad += 1
                    index += 1
                    continue
                }
                guard index + 1 < end else { break }
                let trail = buffer[index + 1]
                if trail >= 0x30 && trail <= 0x39 {
                    guard index + 3 < end else { break }
                    if buffer[index + 2] >= 0x81 && buffer[index + 2] <= 0xFE && buffer[index + 3] >= 0x30
                        && buffer[index + 3] <= 0x39
                    {
                        characters += 1
                        index += 4
                    } else {
                        bad += 1
                        index += 1
                    }
                } else if (trail >= 0x40 && trail <= 0x7E) || (trail >= 0x80 && trail <= 0xFE) {
                    characters += 1
                    if trail < 0x80 { asciiTrails += 1 }
                    index += 2
                } else {
                    bad += 1
                    index += 1
                }
            }
            if characters > 0 && bad * 10 <= characters && asciiTrails * 2 <= characters {
                return .gb18030
            }
            return .windows1252
        }
    }

    // MARK: iconv

    private func convert(
        _ bytes: [UInt8], from start: Int, base: Int64, isFinal: Bool, using converter: ImportIconv,
        startCount: Int, into output: inout [UInt8]
    ) throws {
        var index = start
        let step = self.encoding.invalidSequenceStep
        while index < bytes.count {
            let outcome = converter.convert(bytes, from: index, into: &output)
            index = outcome.next
            switch outcome.stop {
            case .done:
                return
            case .incomplete:
                if isFinal {
                    self.recordIssue(
                        decodedOffset: self.decodedCount + Int64(output.count - startCount),
                        fileOffset: base + Int64(index))
                    output.append(contentsOf: ImportTextDecoder.replacement)
                    return
                }
                self.carry = Array(bytes[index...])
                self.carryFileOffset = base + Int64(index)
                return
            case .invalid:
                self.recordIssue(
                    decodedOffset: self.decodedCount + Int64(output.count - startCount),
                    fileOffset: base + Int64(index))
                output.append(contentsOf: ImportTextDecoder.replacement)
                index = min(bytes.count, index + step)
                converter.reset()
            case .failed(let code):
                throw ImportError(
                    .unreadableFile, path: self.path,
                    reason: "iconv failed: \(String(cString: strerror(code)))")
            }
        }
    }

    // MARK: Sniffing

    /// What the first bytes of a text file say about it.
    struct Sniff {
        /// The encoding a byte-order mark (or the NUL pattern of BOM-less UTF-16) gives, if any.
        var encoding: ImportTextEncoding?
        /// Bytes to skip at the start of the file.
        var markLength: Int
        /// Whether the bytes hold NULs that are not UTF-16: binary data.
        var isBinary: Bool
    }

    static func sniff(_ head: [UInt8]) -> Sniff {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) {
            return Sniff(encoding: .utf8, markLength: 3, isBinary: false)
        }
        if head.starts(with: [0xFF, 0xFE]) {
            return Sniff(encoding: .utf16LittleEndian, markLength: 2, isBinary: false)
        }
        if head.starts(with: [0xFE, 0xFF]) {
            return Sniff(encoding: .utf16BigEndian, markLength: 2, isBinary: false)
        }
        if head.starts(with: [0x84, 0x31, 0x95, 0x33]) {
            return Sniff(encoding: .gb18030, markLength: 4, isBinary: false)
        }
        let sample = head.prefix(4096)
        guard sample.contains(0) else {
            return Sniff(encoding: nil, markLength: 0, isBinary: false)
        }
        // UTF-16 without a mark: mostly-ASCII text has a NUL in every other byte.
        var evenZeros = 0
        var oddZeros = 0
        for (offset, byte) in sample.enumerated() where byte == 0 {
            if offset % 2 == 0 { evenZeros += 1 } else { oddZeros += 1 }
        }
        let pairs = sample.count / 2
        if pairs > 0 && oddZeros * 10 >= pairs * 3 && evenZeros * 20 <= oddZeros {
            return Sniff(encoding: .utf16LittleEndian, markLength: 0, isBinary: false)
        }
        if pairs > 0 && evenZeros * 10 >= pairs * 3 && oddZeros * 20 <= evenZeros {
            return Sniff(encoding: .utf16BigEndian, markLength: 0, isBinary: false)
        }
        return Sniff(encoding: nil, markLength: 0, isBinary: true)
    }
}

/// An `iconv` conversion descriptor to UTF-8.
///
/// Owned by one decoder, used from one thread at a time.
final class ImportIconv {
    enum Stop {
        case done
        case incomplete
        case invalid
        case failed(Int32)
    }

    private let handle: iconv_t
    /// Reused output buffer.
    private var scratch: [UInt8] = []

    init(from encoding: ImportTextEncoding, path: String) throws {
        let handle = iconv_open("UTF-8", encoding.iconvName)
        guard let handle, Int(bitPattern: handle) != -1 else {
            throw ImportError(
                .unsupportedFormat, path: path,
                reason: "no \(encoding.iconvName) converter in this C library (iconv_open failed)")
        }
        self.handle = handle
    }

    deinit {
        iconv_close(self.handle)
    }

    func reset() {
        iconv(self.handle, nil, nil, nil, nil)
    }

    /// Converts from `bytes[start...]`, appending UTF-8 to `output`, until the input ends or a sequence
    /// is incomplete or invalid.
    ///
    /// - Returns: Where conversion stopped in `bytes`, and why.
    func convert(_ bytes: [UInt8], from start: Int, into output: inout [UInt8]) -> (next: Int, stop: Stop) {
        var index = start
        while true {
            let remaining = bytes.count - index
            if remaining == 0 { return (index, .done) }
            let capacity = min(remaining, 1 << 20) * 2 + 16
            if self.scratch.count < capacity {
                self.scratch = [UInt8](repeating: 0, count: capacity)
            }
            var inputLeft = remaining
            var outputLeft = capacity
            var result = 0
            var code: Int32 = 0
            bytes.withUnsafeBufferPointer { input in
                self.scratch.withUnsafeMutableBufferPointer { out in
                    var inputPointer = UnsafeMutableRawPointer(mutating: input.baseAddress! + index)
                        .assumingMemoryBound(to: CChar.self) as UnsafeMutablePointer<CChar>?
                    var outputPointer = UnsafeMutableRawPointer(out.baseAddress!)
                        .assumingMemoryBound(to: CChar.self) as UnsafeMutablePointer<CChar>?
                    result = iconv(self.handle, &inputPointer, &inputLeft, &outputPointer, &outputLeft)
                    if result == -1 { code = errno }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: out[0..<(capacity - outputLeft)]))
                }
            }
            index += remaining - inputLeft
            if result != -1 { return (index, .done) }
            switch code {
            case E2BIG: continue
            case EINVAL: return (index, .incomplete)
            case EILSEQ: return (index, .invalid)
            default: return (index, .failed(code))
            }
        }
    }
}
