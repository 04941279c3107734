import Crypto
import SwiftASN1
import X509

/// How a peer's certificate chain is accepted.
public enum PeerAuthenticator: Sendable {
    /// The chain must lead to one of these roots (RFC 5280 path checks done synchronously with
    /// swift-certificates' types), be valid now, allowed for TLS use, and for a server, name the host.
    case certificateAuthorities([Certificate])
    /// The leaf's SHA-256 fingerprint must be one of these; nothing else is checked.
    case fingerprints([[UInt8]])
    /// The SHA-256 of the leaf's SubjectPublicKeyInfo must be one of these.
    case publicKeyPins([[UInt8]])
    /// Accept any certificate (known-answer tests and `--insecure` only).
    case insecureAcceptAnything

    public enum Purpose: Sendable {
        case server(hostName: String?)
        case client
    }

    /// Reads PEM root certificates into a `.certificateAuthorities` authenticator.
    public static func certificateAuthorities(pem: String) throws(TLSError) -> PeerAuthenticator {
        do {
            let roots = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(derEncoded: $0.derBytes) }
            guard !roots.isEmpty else { throw TLSError.internalError("no certificate in the CA file") }
            return .certificateAuthorities(roots)
        } catch let error as TLSError {
            throw error
        } catch {
            throw .internalError("the CA file cannot be read: \(error)")
        }
    }

    func authenticate(chain: [[UInt8]], spki: [UInt8], purpose: Purpose, now: Int64) throws(TLSError) {
        guard let leafDER = chain.first else { throw .authentication(.badCertificate("empty chain")) }
        switch self {
        case .insecureAcceptAnything:
            return
        case .fingerprints(let accepted):
            guard accepted.contains(Array(SHA256.hash(data: leafDER))) else {
                throw .authentication(.unknownIssuer("fingerprint not pinned"))
            }
        case .publicKeyPins(let accepted):
            guard accepted.contains(Array(SHA256.hash(data: spki))) else {
                throw .authentication(.unknownIssuer("public key not pinned"))
            }
        case .certificateAuthorities(let roots):
            let certificates: [Certificate]
            do {
                certificates = try chain.map { try Certificate(derEncoded: $0) }
            } catch {
                throw .authentication(.badCertificate("cannot parse the chain: \(error)"))
            }
            try ChainValidator(roots: roots, now: now).validate(certificates, purpose: purpose)
        }
    }
}

/// Builds a path from the leaf to a trusted root and checks it: signatures, validity periods,
/// CA basic constraints and key usage on issuers, and on the leaf its extended key usage and,
/// for a server, its name.
struct ChainValidator {
    let roots: [Certificate]
    let now: Int64
    static let maximumDepth = 8

    func validate(_ presented: [Certificate], purpose: PeerAuthenticator.Purpose) throws(TLSError) {
        guard let leaf = presented.first else { throw .authentication(.badCertificate("empty chain")) }
        try checkValidity(leaf)
        try checkLeafUsage(leaf, purpose: purpose)
        var current = leaf
        // Each presented certificate is used at most once, so a self-signed one cannot issue itself forever.
        var unused = Array(presented.dropFirst())
        for depth in 0..<Self.maximumDepth {
            if let root = roots.first(where: { $0.subject == current.issuer && signs($0, current) }) {
                try checkValidity(root)
                return
            }
            if roots.contains(current) && depth > 0 { return }
            guard let index = unused.firstIndex(where: { $0.subject == current.issuer && signs($0, current) }) else {
                throw .authentication(.unknownIssuer("no trusted issuer for \(current.subject)"))
            }
            let issuer = unused.remove(at: index)
            try checkValidity(issuer)
            try checkIssuer(issuer)
            current = issuer
        }
        throw .authentication(.unknownIssuer("chain longer than \(Self.maximumDepth)"))
    }

    private func signs(_ issuer: Certificate, _ subject: Certificate) -> Bool {
        issuer.publicKey.isValidSignature(subject.signature, for: subject)
    }

    private func checkValidity(_ certificate: Certificate) throws(TLSError) {
        let notBefore = Int64(certificate.notValidBefore.timeIntervalSince1970)
        let notAfter = Int64(certificate.notValidAfter.timeIntervalSince1970)
        guard now >= notBefore, now <= notAfter else {
            throw .authentication(.expired("\(certificate.subject) is not valid at this time"))
        }
    }

    private func checkIssuer(_ issuer: Certificate) throws(TLSError) {
        guard case .isCertificateAuthority = try? issuer.extensions.basicConstraints else {
            throw .authentication(.unknownIssuer("\(issuer.subject) is not a CA"))
        }
        if let usage = try? issuer.extensions.keyUsage, !usage.keyCertSign {
            throw .authentication(.unknownIssuer("\(issuer.subject) may not sign certificates"))
        }
    }

    private func checkLeafUsage(_ leaf: Certificate, purpose: PeerAuthenticator.Purpose) throws(TLSError) {
        if let usage = try? leaf.extensions.keyUsage, !usage.digitalSignature {
            throw .authentication(.notAuthorized("key usage lacks digitalSignature"))
        }
        if let extendedUsage = try? leaf.extensions.extendedKeyUsage {
            let wanted: ExtendedKeyUsage.Usage
            if case .server = purpose { wanted = .serverAuth } else { wanted = .clientAuth }
            guard extendedUsage.contains(wanted) || extendedUsage.contains(.any) else {
                throw .authentication(.notAuthorized("extended key usage does not allow this use"))
            }
        }
        if case .server(let hostName?) = purpose {
            var names: [String] = []
            if let alternatives = try? leaf.extensions.subjectAlternativeNames {
                for case .dnsName(let name) in alternatives { names.append(name.lowercased()) }
            }
            guard names.contains(where: { hostMatches(pattern: $0, host: hostName.lowercased()) }) else {
                throw .authentication(.notAuthorized("the certificate is not for \(hostName)"))
            }
        }
    }
}
