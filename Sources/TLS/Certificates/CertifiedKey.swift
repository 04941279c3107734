import SwiftASN1
import X509

/// A certificate chain (leaf first, DER) and the private key of its leaf: what a server presents,
/// or a client presents when asked for mutual TLS.
public struct CertifiedKey: Sendable {
    public var chain: [[UInt8]]
    public var key: SigningKey
    /// DNS names the leaf is valid for (subjectAltName dNSName entries), for choosing by SNI.
    public var names: [String]

    public init(chain: [[UInt8]], key: SigningKey) throws(TLSError) {
        guard let leafDER = chain.first else { throw .internalError("an empty certificate chain") }
        self.chain = chain
        self.key = key
        let leaf: Certificate
        do {
            leaf = try Certificate(derEncoded: leafDER)
        } catch {
            throw .internalError("the leaf certificate cannot be parsed: \(error)")
        }
        var names: [String] = []
        if let alternatives = try? leaf.extensions.subjectAlternativeNames {
            for case .dnsName(let name) in alternatives { names.append(name.lowercased()) }
        }
        self.names = names
    }

    /// Reads a PEM chain (leaf first) and a PEM private key.
    public init(chainPEM: String, keyPEM: String) throws(TLSError) {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: chainPEM)
        } catch {
            throw .internalError("the certificate file is not PEM: \(error)")
        }
        try self.init(chain: documents.map(\.derBytes), key: try SigningKey(pem: keyPEM))
    }

    /// Whether the leaf names `host`, with a `*.` wildcard standing for exactly one left-most label.
    func matches(host: String) -> Bool {
        names.contains { hostMatches(pattern: $0, host: host.lowercased()) }
    }
}

func hostMatches(pattern: String, host: String) -> Bool {
    if pattern == host { return true }
    guard pattern.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
    return pattern.dropFirst(1) == host[dot...] && host[..<dot].count > 0
}
