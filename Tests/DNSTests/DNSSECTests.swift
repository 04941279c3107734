import DNS
import Testing

@testable import DNSSecurity

@Suite struct DNSSECTests {
    @Test(arguments: DNSSECAlgorithm.allCases)
    func signAndVerifyEveryAlgorithm(algorithm: DNSSECAlgorithm) throws {
        let origin = try DomainName("example.com.")
        let key = try DNSSECSigningKey(generating: algorithm)
        let dnskey = try key.dnskey(flags: 256)
        let rrset = [
            ResourceRecord(
                name: try DomainName("WWW.example.com."), ttl: 60, data: .a(ARecord(address: IPv4Address(192, 0, 2, 2)))
            ),
            ResourceRecord(
                name: try DomainName("www.example.com."), ttl: 60, data: .a(ARecord(address: IPv4Address(192, 0, 2, 1)))
            ),
        ]
        let signature = try key.sign(rrset, signer: origin, inception: 1000, expiration: 2000, flags: 256)
        #expect(signature.labels == 3)
        // Order and owner case do not matter to the canonical form.
        try DNSSEC.verify(signature, rrset: rrset.reversed(), key: dnskey, keyOwner: origin, now: 1500)
        var changed = rrset
        changed[0].data = .a(ARecord(address: IPv4Address(192, 0, 2, 3)))
        #expect(throws: DNSSECError.badSignature) {
            try DNSSEC.verify(signature, rrset: changed, key: dnskey, keyOwner: origin, now: 1500)
        }
        #expect(throws: DNSSECError.notYetValid) {
            try DNSSEC.verify(signature, rrset: rrset, key: dnskey, keyOwner: origin, now: 999)
        }
        #expect(throws: DNSSECError.keyMismatch) {
            try DNSSEC.verify(signature, rrset: rrset, key: try key.dnskey(flags: 257), keyOwner: origin, now: 1500)
        }
    }

    /// A signature over a wildcard's expansion verifies against the wildcard owner.
    @Test func wildcardExpansionVerifies() throws {
        let origin = try DomainName("example.com.")
        let key = try DNSSECSigningKey(generating: .ed25519)
        let wildcard = [ResourceRecord(name: try DomainName("*.example.com."), ttl: 60, data: .txt(TXTRecord("w")))]
        let signature = try key.sign(wildcard, signer: origin, inception: 0, expiration: 100)
        #expect(signature.labels == 2)
        let expanded = [ResourceRecord(name: try DomainName("a.b.example.com."), ttl: 60, data: .txt(TXTRecord("w")))]
        try DNSSEC.verify(signature, rrset: expanded, key: try key.dnskey(), keyOwner: origin, now: 50)
    }

    /// RFC 5155 Appendix A: the hash of "example" with salt AABBCCDD and 12 iterations.
    @Test func nsec3HashMatchesRFC5155() throws {
        let hash = DNSSEC.nsec3Hash(try DomainName("example."), salt: [0xAA, 0xBB, 0xCC, 0xDD], iterations: 12)
        #expect(TextEncoding.base32Hex(hash).lowercased() == "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom")
        let a = DNSSEC.nsec3Hash(try DomainName("a.example."), salt: [0xAA, 0xBB, 0xCC, 0xDD], iterations: 12)
        #expect(TextEncoding.base32Hex(a).lowercased() == "35mthgpgcu1qg68fab165klnsnk3dpvl")
    }
}
