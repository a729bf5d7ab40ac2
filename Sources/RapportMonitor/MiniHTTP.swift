import Foundation
import RapportSupport
import RapportRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Just enough HTTP/1.0 for loopback: GET a JSON document from the RabbitMQ management API, and serve
/// `/metrics` and `/healthz`. Not a general client or server.
public enum MiniHTTP {
    /// A request or a listener that failed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public typealias Code = ErrorCode<Failure>

        public var code: Code
        public var description: String
        public init(_ code: Code, description: String) {
            self.code = code
            self.description = description
        }
    }

    /// GETs `url` (`http://user:password@host:port/path`); returns status and body.
    public static func get(_ url: String, timeout: Double = 5) throws -> (status: Int, body: String) {
        try self.request("GET", url, timeout: timeout)
    }

    /// Sends `method` to `url` with an optional JSON body (the management API's PUT and DELETE).
    public static func request(_ method: String, _ url: String, json body: String? = nil, timeout: Double = 5) throws -> (status: Int, body: String) {
        guard let c = URLComponents(string: url), c.scheme == "http", let host = c.host else { throw Failure(.invalidURL, description: "not an http URL: \(Redact.url(url))") }
        let fd = try self.connect(host: host, port: c.port ?? 80, timeout: timeout)
        defer { close(fd) }
        var request = "\(method) \(c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath)\(c.percentEncodedQuery.map { "?" + $0 } ?? "") HTTP/1.0\r\nHost: \(host)\r\n"
        if let user = c.user {
            request += "Authorization: Basic \(Data("\(user):\(c.password ?? "")".utf8).base64EncodedString())\r\n"
        }
        let payload = Array((body ?? "").utf8)
        if body != nil { request += "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n" }
        request += "Accept: application/json\r\nConnection: close\r\n\r\n"
        try self.writeAll(fd, Array(request.utf8) + payload)
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(.network, description: "reading from \(host): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(.noResponse, description: "no HTTP response from \(host)") }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, String(text[split.upperBound...]))
    }

    static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        var hints = addrinfo(ai_flags: 0, ai_family: AF_INET, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0,
                             ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let ai = info else { throw Failure(.network, description: "cannot resolve \(host)") }
        defer { freeaddrinfo(info) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(.network, description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(.network, description: "connect to \(host):\(port): \(e)")
        }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw Failure(.network, description: "write: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Serves GET requests on `host:port` until `isStopped()`; `handler` maps a path to status, content
    /// type and body. One request per connection, one at a time (a scrape every few seconds).
    public static func serve(host: String, port: Int, isStopped: @Sendable () -> Bool,
                             handler: @Sendable (String) -> (status: Int, contentType: String, body: String)) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(.network, description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw Failure(.invalidURL, description: "not an IPv4 address: \(host)") }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw Failure(.listen, description: "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: 0, tv_usec: 250_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while !isStopped() {
            let client = accept(fd, nil, nil)
            if client < 0 { continue }  // the timeout: look at the stop flag again
            var ctv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &ctv, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 8192)
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            let line = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\r\n").first ?? "" : ""
            let parts = line.split(separator: " ")
            let (status, type, body): (Int, String, String) = parts.count >= 2 && parts[0] == "GET"
                ? handler(String(parts[1].split(separator: "?").first ?? "/")) : (405, "text/plain", "GET only\n")
            let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][status] ?? "Status"
            let bytes = Array(body.utf8)
            let head = "HTTP/1.0 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            try? self.writeAll(client, Array(head.utf8) + bytes)
            close(client)
        }
    }
}

extension ErrorCode where Owner == MiniHTTP.Failure {
    /// Not an http:// URL this client can fetch.
    public static let invalidURL = Self("invalid_url")
    /// Resolving, connecting, reading or writing failed.
    public static let network = Self("network")
    /// The peer sent no HTTP response.
    public static let noResponse = Self("no_response")
    /// The server cannot bind or listen.
    public static let listen = Self("listen")
}
