import RapportCore
import RapportSupport
internal import CZlib

/// A zip archive read through its central directory, with entries streamed one chunk at a time.
///
/// Supports what spreadsheet writers produce: stored and deflated entries, ZIP64 sizes and offsets, data
/// descriptors (sizes come from the central directory). Encrypted entries and other compression methods are
/// ``ImportError/Code/unsupportedFormat``; structural damage is ``ImportError/Code/malformedFile``.
final class ImportZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var flags: UInt16
        var crc32: UInt32
        var compressedSize: Int64
        var uncompressedSize: Int64
        var localHeaderOffset: Int64
    }

    let file: ImportFile
    private(set) var entries: [Entry] = []
    private var byLowercasedName: [String: Int] = [:]

    /// Largest central directory accepted; a real workbook's is a few kilobytes.
    static let maximumDirectorySize: Int64 = 64 << 20

    init(file: ImportFile) throws {
        self.file = file
        try self.readDirectory()
    }

    private var path: String { self.file.path }

    private func malformed(_ reason: String) -> ImportError {
        ImportError(.malformedFile, path: self.path, reason: reason)
    }

    /// The entry with `name`, compared case-insensitively as Office Open XML part names are.
    func entry(named name: String) -> Entry? {
        var name = name
        if name.hasPrefix("/") { name.removeFirst() }
        return self.byLowercasedName[name.lowercased()].map { self.entries[$0] }
    }

    private func readDirectory() throws {
        let size = self.file.size
        guard size >= 22 else { throw self.malformed("too short for a zip archive") }
        let tailLength = Int(min(size, 22 + 65_535))
        let tailStart = size - Int64(tailLength)
        let tail = try self.file.read(at: tailStart, exactly: tailLength)
        var eocd = -1
        var index = tail.count - 22
        while index >= 0 {
            if tail[index] == 0x50 && tail[index + 1] == 0x4B && tail[index + 2] == 0x05 && tail[index + 3] == 0x06 {
                eocd = index
                break
            }
            index -= 1
        }
        guard eocd >= 0 else { throw self.malformed("no end of central directory record") }
        var entryCount = Int64(Self.u16(tail, eocd + 10))
        var directorySize = Int64(Self.u32(tail, eocd + 12))
        var directoryOffset = Int64(Self.u32(tail, eocd + 16))
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the end record and points at the ZIP64 end record.
            let locator = eocd - 20
            guard locator >= 0, Self.u32(tail, locator) == 0x0706_4B50 else {
                throw self.malformed("ZIP64 locator missing")
            }
            let recordOffset = Int64(bitPattern: Self.u64(tail, locator + 8))
            guard recordOffset >= 0 && recordOffset <= size - 56 else {
                throw self.malformed("bad ZIP64 record offset")
            }
            let record = try self.file.read(at: recordOffset, exactly: 56)
            guard Self.u32(record, 0) == 0x0606_4B50 else { throw self.malformed("bad ZIP64 end record") }
            entryCount = Int64(bitPattern: Self.u64(record, 32))
            directorySize = Int64(bitPattern: Self.u64(record, 40))
            directoryOffset = Int64(bitPattern: Self.u64(record, 48))
        }
        guard directorySize >= 0, directoryOffset >= 0, directorySize <= Self.maximumDirectorySize,
            directoryOffset <= size - directorySize, entryCount >= 0
        else {
            throw self.malformed("central directory out of range")
        }
        let directory = try self.file.read(at: directoryOffset, exactly: Int(directorySize))
        var position = 0
        for _ in 0..<entryCount {
            guard position + 46 <= directory.count, Self.u32(directory, position) == 0x0201_4B50 else {
                throw self.malformed("bad central directory entry")
            }
            let flags = Self.u16(directory, position + 8)
            let method = Self.u16(directory, position + 10)
            let crc = Self.u32(directory, position + 16)
            var compressed = Int64(Self.u32(directory, position + 20))
            var uncompressed = Int64(Self.u32(directory, position + 24))
            let nameLength = Int(Self.u16(directory, position + 28))
            let extraLength = Int(Self.u16(directory, position + 30))
            let commentLength = Int(Self.u16(directory, position + 32))
            var localOffset = Int64(Self.u32(directory, position + 42))
            let nameStart = position + 46
            let extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= directory.count else { throw self.malformed("central directory entry overruns") }
            let name = String(decoding: directory[nameStart..<extraStart], as: UTF8.self)
            // ZIP64 extended information: present fields follow in a fixed order, only for the saturated ones.
            var extra = extraStart
            while extra + 4 <= extraStart + extraLength {
                let id = Self.u16(directory, extra)
                let length = Int(Self.u16(directory, extra + 2))
                let body = extra + 4
                guard body + length <= extraStart + extraLength else { break }
                if id == 0x0001 {
                    var field = body
                    if uncompressed == 0xFFFF_FFFF && field + 8 <= body + length {
                        uncompressed = Int64(bitPattern: Self.u64(directory, field))
                        field += 8
                    }
                    if compressed == 0xFFFF_FFFF && field + 8 <= body + length {
                        compressed = Int64(bitPattern: Self.u64(directory, field))
                        field += 8
                    }
                    if localOffset == 0xFFFF_FFFF && field + 8 <= body + length {
                        localOffset = Int64(bitPattern: Self.u64(directory, field))
                        field += 8
                    }
                }
                extra = body + length
            }
            guard compressed >= 0, uncompressed >= 0, localOffset >= 0, localOffset < size else {
                throw self.malformed("entry out of range")
            }
            let entry = Entry(
                name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
                uncompressedSize: uncompressed, localHeaderOffset: localOffset)
            self.byLowercasedName[name.lowercased()] = self.entries.count
            self.entries.append(entry)
            position = next
        }
    }

    /// Opens `entry` for streaming.
    func open(_ entry: Entry) throws -> ImportZipEntryReader {
        guard entry.flags & 0x1 == 0 else {
            throw ImportError(.unsupportedFormat, path: self.path, reason: "encrypted zip entry \(entry.name)")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw ImportError(
                .unsupportedFormat, path: self.path,
                reason: "zip entry \(entry.name) uses compression method \(entry.method)")
        }
        let header = try self.file.read(at: entry.localHeaderOffset, exactly: 30)
        guard Self.u32(header, 0) == 0x0403_4B50 else { throw self.malformed("bad local header for \(entry.name)") }
        let dataStart = entry.localHeaderOffset + 30 + Int64(Self.u16(header, 26)) + Int64(Self.u16(header, 28))
        guard dataStart <= self.file.size, entry.compressedSize <= self.file.size - dataStart else {
            throw self.malformed("entry \(entry.name) runs past the end of the file")
        }
        return try ImportZipEntryReader(file: self.file, entry: entry, dataStart: dataStart)
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(Self.u16(bytes, at)) | UInt32(Self.u16(bytes, at + 2)) << 16
    }

    static func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        UInt64(Self.u32(bytes, at)) | UInt64(Self.u32(bytes, at + 4)) << 32
    }
}

/// Pulls an entry's uncompressed bytes, inflating with zlib as it goes; checks size and CRC-32 at the end.
final class ImportZipEntryReader {
    let entry: ImportZipArchive.Entry
    private let file: ImportFile
    private let dataStart: Int64
    private var stream = z_stream()
    private var streamReady = false
    private var input: [UInt8] = []
    private var inputPosition = 0
    /// Reused inflate output buffer.
    private var scratch: [UInt8] = []
    /// Compressed bytes read from the file so far.
    private(set) var compressedConsumed: Int64 = 0
    private(set) var produced: Int64 = 0
    private var crc: UInt = 0
    private(set) var isFinished = false
    /// Compressed bytes read per file read. Defaults to 64 KiB.
    var readSize = 64 << 10

    init(file: ImportFile, entry: ImportZipArchive.Entry, dataStart: Int64) throws {
        self.file = file
        self.entry = entry
        self.dataStart = dataStart
        self.crc = crc32(0, nil, 0)
        if entry.method == 8 {
            let status = inflateInit2_(&self.stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                throw ImportError(.unreadableFile, path: file.path, reason: "inflateInit2 failed (\(status))")
            }
            self.streamReady = true
        }
    }

    deinit {
        if self.streamReady {
            inflateEnd(&self.stream)
        }
    }

    private func malformed(_ reason: String) -> ImportError {
        ImportError(.malformedFile, path: self.file.path, reason: "\(self.entry.name): \(reason)")
    }

    /// Appends up to `maximum` uncompressed bytes to `output`.
    ///
    /// - Returns: The number of bytes appended; `0` only at the end of the entry.
    func read(maximum: Int, appendingTo output: inout [UInt8]) throws -> Int {
        guard !self.isFinished else { return 0 }
        let maximum = max(1, maximum)
        var appended = 0
        while appended == 0 {
            if self.inputPosition == self.input.count {
                let left = self.entry.compressedSize - self.compressedConsumed
                self.input.removeAll(keepingCapacity: true)
                self.inputPosition = 0
                if left > 0 {
                    let count = Int(min(Int64(self.readSize), left))
                    let got = try self.file.read(
                        at: self.dataStart + self.compressedConsumed, count: count, appendingTo: &self.input)
                    guard got == count else { throw self.malformed("truncated") }
                    self.compressedConsumed += Int64(got)
                }
            }
            if self.entry.method == 0 {
                let count = min(maximum, self.input.count - self.inputPosition)
                if count == 0 {
                    try self.finish()
                    return 0
                }
                output.append(contentsOf: self.input[self.inputPosition..<(self.inputPosition + count)])
                self.inputPosition += count
                appended = count
            } else {
                let outputStart = output.count
                if self.scratch.count < maximum {
                    self.scratch = [UInt8](repeating: 0, count: maximum)
                }
                let inputAvailable = self.input.count - self.inputPosition
                var status: Int32 = Z_OK
                var consumed = 0
                var made = 0
                self.input.withUnsafeMutableBufferPointer { inputBuffer in
                    self.scratch.withUnsafeMutableBufferPointer { outputBuffer in
                        self.stream.next_in = inputAvailable > 0 ? inputBuffer.baseAddress! + self.inputPosition : nil
                        self.stream.avail_in = UInt32(inputAvailable)
                        self.stream.next_out = outputBuffer.baseAddress!
                        self.stream.avail_out = UInt32(maximum)
                        status = inflate(&self.stream, Z_NO_FLUSH)
                        consumed = inputAvailable - Int(self.stream.avail_in)
                        made = maximum - Int(self.stream.avail_out)
                        self.stream.next_in = nil
                        self.stream.next_out = nil
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: outputBuffer[0..<made]))
                    }
                }
                self.inputPosition += consumed
                appended = made
                switch status {
                case Z_OK:
                    if made == 0 && consumed == 0 && inputAvailable == 0 {
                        throw self.malformed("deflate stream truncated")
                    }
                case Z_BUF_ERROR:
                    if inputAvailable == 0 && self.compressedConsumed >= self.entry.compressedSize {
                        throw self.malformed("deflate stream truncated")
                    }
                case Z_STREAM_END:
                    self.updateChecksum(output, from: outputStart)
                    try self.finish()
                    return made
                default:
                    throw self.malformed("corrupt deflate data (\(status))")
                }
                self.updateChecksum(output, from: outputStart)
                continue
            }
            self.updateChecksum(output, from: output.count - appended)
        }
        return appended
    }

    private func updateChecksum(_ output: [UInt8], from start: Int) {
        let count = output.count - start
        guard count > 0 else { return }
        self.produced += Int64(count)
        output.withUnsafeBufferPointer { buffer in
            self.crc = crc32(self.crc, buffer.baseAddress! + start, UInt32(count))
        }
    }

    private func finish() throws {
        self.isFinished = true
        guard self.produced == self.entry.uncompressedSize else {
            throw self.malformed("size \(self.produced) instead of \(self.entry.uncompressedSize)")
        }
        guard UInt32(truncatingIfNeeded: self.crc) == self.entry.crc32 else {
            throw self.malformed("CRC-32 mismatch")
        }
    }
}
