import DNS
import DNSSecurity
import Foundation
import TestSupport
import Testing

/// Zones signed by BIND's dnssec-signzone verify here, tampered ones do not, and the same zones
/// re-signed by us pass BIND's dnssec-verify.
@Suite struct DNSSECInteropTests {
    static let zone = """
        $TTL 300
        @ SOA ns1 hostmaster 1 7200 3600 1209600 300
        @ NS ns1
        @ MX 10 mail
        ns1 A 192.0.2.1
        ns1 AAAA 2001:db8::1
        mail A 192.0.2.2
        mail A 192.0.2.3
        *.wild A 192.0.2.4
        www CNAME ns1
        Mixed.Case TXT "upper case owner"
        sub NS ns.sub
        ns.sub A 192.0.2.5
        """

    static let algorithms: [(name: String, number: UInt8)] = [
        ("RSASHA256", 8), ("RSASHA512", 10), ("ECDSAP256SHA256", 13), ("ECDSAP384SHA384", 14), ("ED25519", 15),
    ]

    struct SignedZone {
        let directory: TemporaryDirectory
        let records: [ResourceRecord]
        /// Key file base names (`Kexample.com.+013+12345`), key-signing key first.
        let keyFiles: [String]
    }

    private func signWithBIND(algorithm: String, nsec3: Bool) throws -> SignedZone {
        let keygen = try Peer.command("dnssec-keygen", debian: "bind9utils")
        let signzone = try Peer.command("dnssec-signzone", debian: "bind9utils")
        let directory = try TemporaryDirectory("dnssec")
        try directory.write("zone.db", Self.zone + "\n")
        var keyFiles: [String] = []
        for flags in [["-f", "KSK"], []] {
            let size = algorithm.hasPrefix("RSA") ? ["-b", "2048"] : []
            let made = try run(
                keygen, ["-q", "-a", algorithm] + size + flags + ["-n", "ZONE", "example.com"],
                currentDirectory: directory.path)
            try #require(made.status == 0, "\(made.stderr)")
            keyFiles.append(made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let options = nsec3 ? ["-3", "AABBCCDD", "-H", "2"] : []
        let signed = try run(
            signzone, ["-S", "-K", ".", "-o", "example.com"] + options + ["zone.db"], currentDirectory: directory.path)
        try #require(signed.status == 0, "\(signed.stderr)")
        let text = try String(contentsOfFile: directory.file("zone.db.signed"), encoding: .utf8)
        let records = try ZoneParser(origin: try DomainName("example.com.")).parse(text)
        return SignedZone(directory: directory, records: records, keyFiles: keyFiles)
    }

    private func rrset(_ records: [ResourceRecord], owner: DomainName, type: RecordType) -> [ResourceRecord] {
        records.filter { $0.name == owner && $0.type == type }
    }

    private func dnskeys(_ records: [ResourceRecord]) -> [DNSKEYRecord] {
        records.compactMap { if case .dnskey(let key) = $0.data { key } else { nil } }
    }

    private static var now: UInt32 { UInt32(Date().timeIntervalSince1970) }

    @Test(arguments: algorithms.map(\.name), [false, true])
    func bindSignaturesVerifyAndTamperedOnesDoNot(algorithm: String, nsec3: Bool) throws {
        let signed = try signWithBIND(algorithm: algorithm, nsec3: nsec3)
        defer { signed.directory.remove() }
        let origin = try DomainName("example.com.")
        let keys = dnskeys(signed.records)
        try #require(keys.count == 2)

        var verified = 0
        for record in signed.records {
            guard case .rrsig(let signature) = record.data else { continue }
            let covered = rrset(signed.records, owner: record.name, type: signature.typeCovered)
            let key = try #require(keys.first { DNSSEC.keyTag($0) == signature.keyTag })
            try DNSSEC.verify(signature, rrset: covered, key: key, keyOwner: origin, now: Self.now)
            verified += 1
        }
        #expect(verified >= 10)

        // Change one address of a signed RRset: its signature must no longer verify.
        let mail = try DomainName("mail.example.com.")
        var tampered = rrset(signed.records, owner: mail, type: .a)
        tampered[0].data = .a(ARecord(address: IPv4Address(198, 51, 100, 1)))
        let signature = try #require(
            signed.records.lazy.compactMap { record -> RRSIGRecord? in
                guard record.name == mail, case .rrsig(let rrsig) = record.data, rrsig.typeCovered == .a else {
                    return nil
                }
                return rrsig
            }.first)
        let key = try #require(keys.first { DNSSEC.keyTag($0) == signature.keyTag })
        #expect(throws: DNSSECError.badSignature) {
            try DNSSEC.verify(signature, rrset: tampered, key: key, keyOwner: origin, now: Self.now)
        }
        var flipped = signature
        flipped.signature[flipped.signature.count / 2] ^= 0x01
        #expect(throws: DNSSECError.badSignature) {
            try DNSSEC.verify(
                flipped, rrset: self.rrset(signed.records, owner: mail, type: .a), key: key, keyOwner: origin,
                now: Self.now)
        }
        #expect(throws: DNSSECError.expired) {
            try DNSSEC.verify(
                signature, rrset: self.rrset(signed.records, owner: mail, type: .a), key: key, keyOwner: origin,
                now: signature.expiration &+ 1)
        }

        // Key tags as BIND names its key files, DS records as dnssec-dsfromkey computes them (their
        // lines carry no TTL, hence the $TTL).
        let dsfromkey = try Peer.command("dnssec-dsfromkey", debian: "bind9utils")
        for file in signed.keyFiles {
            let tag = try #require(file.split(separator: "+").last.flatMap { UInt16($0) })
            let keyText = try String(contentsOfFile: signed.directory.file("\(file).key"), encoding: .utf8)
            let keyRecord = try #require(try ZoneParser(origin: origin).parse("$TTL 0\n" + keyText).first)
            guard case .dnskey(let dnskey) = keyRecord.data else {
                Issue.record("not a DNSKEY")
                continue
            }
            #expect(DNSSEC.keyTag(dnskey) == tag)
            for (digestName, digestType) in [("SHA-256", UInt8(2)), ("SHA-384", UInt8(4))] {
                let output = try run(dsfromkey, ["-a", digestName, signed.directory.file("\(file).key")])
                let theirs = try #require(try ZoneParser(origin: origin).parse("$TTL 0\n" + output.stdout).first)
                let ours = try DNSSEC.delegationSigner(owner: origin, key: dnskey, digestType: digestType)
                #expect(theirs.data == .ds(ours))
            }
        }

        // NSEC3 owners are the hashes of the zone's names.
        if nsec3 {
            let owners = Set(
                signed.records.filter { $0.type == .nsec3 }.compactMap { $0.name.labels.first }.map {
                    String(decoding: $0, as: UTF8.self).uppercased()
                })
            for name in ["example.com.", "ns1.example.com.", "mail.example.com.", "mixed.case.example.com."] {
                let hash = DNSSEC.nsec3Hash(try DomainName(name), salt: [0xAA, 0xBB, 0xCC, 0xDD], iterations: 2)
                #expect(owners.contains(TextEncoding.base32Hex(hash)), "\(name)")
            }
        }
    }

    @Test(arguments: algorithms.map(\.name))
    func ourSignaturesPassDnssecVerify(algorithm: String) throws {
        let verify = try Peer.command("dnssec-verify", debian: "bind9utils")
        let signed = try signWithBIND(algorithm: algorithm, nsec3: false)
        defer { signed.directory.remove() }
        let origin = try DomainName("example.com.")
        // BIND's private keys, signing under the tags of BIND's public keys.
        var signers: [UInt16: (DNSSECSigningKey, UInt16)] = [:]
        for (index, file) in signed.keyFiles.enumerated() {
            let text = try String(contentsOfFile: signed.directory.file("\(file).private"), encoding: .utf8)
            let key = try DNSSECSigningKey(bindPrivateKey: text)
            let flags: UInt16 = index == 0 ? 257 : 256
            signers[DNSSEC.keyTag(try key.dnskey(flags: flags))] = (key, flags)
        }
        try #require(Set(signers.keys) == Set(dnskeys(signed.records).map { DNSSEC.keyTag($0) }))

        var resigned: [ResourceRecord] = []
        var replaced = 0
        for record in signed.records {
            guard case .rrsig(let old) = record.data else {
                resigned.append(record)
                continue
            }
            let (key, flags) = try #require(signers[old.keyTag])
            let covered = rrset(signed.records, owner: record.name, type: old.typeCovered)
            let ours = try key.sign(
                covered, signer: origin, inception: old.inception, expiration: old.expiration, flags: flags)
            #expect(ours.keyTag == old.keyTag)
            resigned.append(ResourceRecord(name: record.name, ttl: record.ttl, data: .rrsig(ours)))
            replaced += 1
        }
        #expect(replaced >= 10)
        let path = try signed.directory.write("ours.db", resigned.map { "\($0)\n" }.joined())
        let result = try run(verify, ["-o", "example.com", path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")

        // The negative control: one corrupted signature and dnssec-verify refuses the zone.
        let corrupted = resigned.map { record -> ResourceRecord in
            guard case .rrsig(var signature) = record.data, signature.typeCovered == .mx else { return record }
            signature.signature[4] ^= 0xFF
            return ResourceRecord(name: record.name, ttl: record.ttl, data: .rrsig(signature))
        }
        let brokenPath = try signed.directory.write("broken.db", corrupted.map { "\($0)\n" }.joined())
        #expect(try run(verify, ["-o", "example.com", brokenPath]).status != 0)
    }
}
