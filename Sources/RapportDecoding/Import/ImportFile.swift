import RapportCore
import RapportSupport
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A read-only file descriptor with sequential and positional reads.
///
/// Owned by one ``ImportReader``; not shared between threads.
final class ImportFile {
    let path: String
    let size: Int64
    private var descriptor: Int32
    /// Reused read buffer, so that a read costs one copy and no zero-filling.
    private var scratch: [UInt8] = []

    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImportError(.unreadableFile, path: path, reason: "open failed: \(ImportFile.errnoText())")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let text = ImportFile.errnoText()
            _ = closeDescriptor(descriptor)
            throw ImportError(.unreadableFile, path: path, reason: "fstat failed: \(text)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = closeDescriptor(descriptor)
            throw ImportError(.unreadableFile, path: path, reason: "not a regular file")
        }
        self.descriptor = descriptor
        self.size = Int64(info.st_size)
    }

    deinit {
        self.close()
    }

    func close() {
        if self.descriptor >= 0 {
            _ = closeDescriptor(self.descriptor)
            self.descriptor = -1
        }
    }

    /// Reads up to `count` bytes at `offset`, appending them to `buffer`; fewer only at the end of the file.
    ///
    /// - Returns: The number of bytes appended.
    @discardableResult
    func read(at offset: Int64, count: Int, appendingTo buffer: inout [UInt8]) throws -> Int {
        guard count > 0 else { return 0 }
        guard self.descriptor >= 0 else {
            throw ImportError(.unreadableFile, path: self.path, reason: "file is closed")
        }
        if self.scratch.count < count {
            self.scratch = [UInt8](repeating: 0, count: count)
        }
        var done = 0
        var failure: Int32 = 0
        self.scratch.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            while done < count {
                let result = pread(self.descriptor, base + done, count - done, off_t(offset + Int64(done)))
                if result > 0 {
                    done += result
                } else if result == 0 {
                    break
                } else if errno != EINTR {
                    failure = errno
                    break
                }
            }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<done]).bindMemory(to: UInt8.self))
        }
        if failure != 0 {
            throw ImportError(
                .unreadableFile, path: self.path, reason: "read failed: \(String(cString: strerror(failure)))")
        }
        return done
    }

    /// Reads exactly `count` bytes at `offset`.
    func read(at offset: Int64, exactly count: Int) throws -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(count)
        let got = try self.read(at: offset, count: count, appendingTo: &buffer)
        guard got == count else {
            throw ImportError(
                .malformedFile, path: self.path, reason: "unexpected end of file at byte \(offset + Int64(got))")
        }
        return buffer
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}
