import Foundation

/// Strips secrets from what goes into logs.
public enum Redact {
    /// A URL (`scheme://user:secret@host/…`) or libpq key/value string (`password=secret`) without the secret.
    public static func url(_ text: String) -> String {
        if var c = URLComponents(string: text), c.scheme != nil, c.host != nil {
            if c.password != nil { c.password = "***" }
            c.queryItems = c.queryItems?.map { ["password", "sslpassword"].contains($0.name) ? URLQueryItem(name: $0.name, value: "***") : $0 }
            return c.string ?? "(unprintable URL)"
        }
        return text.split(separator: " ").map { part in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 && ["password", "sslpassword"].contains(kv[0].lowercased()) ? "\(kv[0])=***" : String(part)
        }.joined(separator: " ")
    }
}
