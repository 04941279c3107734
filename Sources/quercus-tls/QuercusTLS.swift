import ArgumentParser
import Foundation
import Logging
import QuercusCLI
import TLS

@main
struct QuercusTLS: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-tls",
        abstract: "A TLS 1.3 and TLS 1.2 server and client over the Quercus TLS engine.",
        discussion:
            "Exit codes: 0 success (a clean close), 1 failure (handshake, verification, network), 64 bad usage.",
        version: QuercusVersion.string,
        subcommands: [Server.self, Client.self]
    )
}

/// Options both sides share: which algorithms to offer or accept.
struct AlgorithmOptions: ParsableArguments {
    @Option(
        help:
            "Cipher suites in order of preference: aes128, aes256, chacha20 (TLS 1.3); OpenSSL's names for TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-CHACHA20-POLY1305…)."
    )
    var suites: String?

    @Option(help: "Protocol versions to enable: 1.3, 1.2 (default: both; TLS 1.3 when the peer has it).")
    var versions: String?

    @Option(help: "Key exchange groups in order of preference: x25519mlkem768, x25519, p256, p384.")
    var groups: String?

    func apply(to configuration: inout TLSConfiguration) throws {
        if let suites {
            configuration.cipherSuites = try names(suites).map { name in
                switch name {
                case "aes128", "tls_aes_128_gcm_sha256": return .aes128GCMSHA256
                case "aes256", "tls_aes_256_gcm_sha384": return .aes256GCMSHA384
                case "chacha20", "tls_chacha20_poly1305_sha256": return .chacha20Poly1305SHA256
                default:
                    guard let suite = CipherSuite.supportedTLS12.first(where: { tls12Names($0).contains(name) }) else {
                        throw ValidationError("unknown cipher suite \"\(name)\"")
                    }
                    return suite
                }
            }
        }
        if let versions {
            configuration.versions = try names(versions).map { name in
                switch name {
                case "1.3", "tls1.3", "tls13": return .tls13
                case "1.2", "tls1.2", "tls12": return .tls12
                default: throw ValidationError("unknown version \"\(name)\" (1.3 or 1.2)")
                }
            }
        }
        if let groups {
            configuration.groups = try names(groups).map { name in
                switch name {
                case "x25519mlkem768": return .x25519MLKEM768
                case "x25519": return .x25519
                case "p256", "secp256r1", "p-256": return .secp256r1
                case "p384", "secp384r1", "p-384": return .secp384r1
                default: throw ValidationError("unknown group \"\(name)\"")
                }
            }
            configuration.keyShareGroups = Array(configuration.groups.prefix(1))
        }
    }

    /// OpenSSL's name of a TLS 1.2 suite and its IANA name, lowercased.
    private func tls12Names(_ suite: CipherSuite) -> [String] {
        let iana = suite.description.lowercased()
        let openssl = iana.replacingOccurrences(of: "tls_", with: "").replacingOccurrences(of: "_with_", with: "_")
            .replacingOccurrences(of: "aes_128", with: "aes128").replacingOccurrences(of: "aes_256", with: "aes256")
            .replacingOccurrences(of: "chacha20_poly1305_sha256", with: "chacha20_poly1305")
            .replacingOccurrences(of: "_", with: "-")
        return [iana, openssl]
    }

    private func names(_ list: String) throws -> [String] {
        let names = list.lowercased().split(separator: ",").map { String($0) }
        guard !names.isEmpty else { throw ValidationError("an empty list") }
        return names
    }
}

func readText(_ path: String, what: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw ValidationError("\(path): cannot read the \(what) (\(error.localizedDescription))")
    }
}

func loadIdentity(certificate: String, key: String) throws -> CertifiedKey {
    do {
        return try CertifiedKey(
            chainPEM: try readText(certificate, what: "certificate"), keyPEM: try readText(key, what: "private key"))
    } catch let error as TLSError {
        throw ValidationError("\(certificate), \(key): \(error)")
    }
}

func loadAuthorities(_ path: String) throws -> PeerAuthenticator {
    do {
        return try PeerAuthenticator.certificateAuthorities(pem: try readText(path, what: "CA certificates"))
    } catch let error as TLSError {
        throw ValidationError("\(path): \(error)")
    }
}

/// A failure of the connection itself, reported as one line naming the peer.
struct ConnectionFailure: Error, CustomStringConvertible {
    let description: String
}

func describe(_ summary: HandshakeSummary) -> String {
    var parts = ["\(summary.version)", "\(summary.cipherSuite)"]
    if let group = summary.group { parts.append("group \(group)") }
    if let scheme = summary.signatureScheme { parts.append("signature \(scheme)") }
    if let protocolName = summary.applicationProtocol { parts.append("ALPN \(protocolName)") }
    if summary.resumed { parts.append("resumed") }
    return parts.joined(separator: ", ")
}

func writeStandardOutput(_ bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes))
}
