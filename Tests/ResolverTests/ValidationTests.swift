import DNS
import DNSClient
import DNSSecurity
import DNSServer
import Testing

@testable import Resolver

/// DNSSEC validation over a root zone signed here (an NSEC chain, a key-signing key), served by
/// the authoritative server's own logic: what is secure gets AD, what is tampered with is SERVFAIL
/// with the extended error saying why, and CD lets the client see it anyway.
@Suite struct ValidationTests {
    struct SignedRoot {
        var network = ScriptedNetwork()
        var anchors: TrustAnchors
    }

    /// `.`, `ns1.` and `www.`, each RRset signed, inception 0 and expiry far after the test clock.
    static func signedRoot(
        tamperWith tampered: String? = nil, anchorKey: DNSSECSigningKey? = nil, junkSignaturesOverWWW: Int = 0
    ) throws
        -> SignedRoot
    {
        let key = try DNSSECSigningKey(generating: .ecdsaP256SHA256)
        let dnskey = try key.dnskey(flags: 257)
        var records = try ZoneParser(origin: .root, include: nil).parse(
            """
            $TTL 3600
            @ SOA ns1. hostmaster. 1 3600 900 604800 300
            @ NS ns1.
            ns1. A 10.0.0.1
            www. A 192.0.2.1
            www. TXT "signed"
            """)
        records.append(ResourceRecord(name: .root, ttl: 3600, data: .dnskey(dnskey)))
        let names = [DomainName.root, try DomainName("ns1."), try DomainName("www.")]
        for (index, name) in names.enumerated() {
            let types = Set(records.filter { $0.name == name }.map(\.type)).union([.nsec, .rrsig]).sorted()
            records.append(
                ResourceRecord(
                    name: name, ttl: 300,
                    data: .nsec(NSECRecord(nextName: names[(index + 1) % names.count], types: types))))
        }
        var signatures: [ResourceRecord] = []
        for name in names {
            for type in Set(records.filter { $0.name == name }.map(\.type)) {
                let rrset = records.filter { $0.name == name && $0.type == type }
                var signature = try key.sign(rrset, signer: .root, inception: 0, expiration: 2_000_000_000)
                if "\(name) \(type)" == tampered { signature.signature[5] ^= 1 }
                if name == (try DomainName("www.")), type == .a {
                    for index in 0..<junkSignaturesOverWWW {
                        var junk = signature
                        junk.signature[6] = UInt8(truncatingIfNeeded: index)
                        junk.signature[7] ^= 0xFF
                        signatures.append(ResourceRecord(name: name, ttl: rrset[0].ttl, data: .rrsig(junk)))
                    }
                }
                signatures.append(ResourceRecord(name: name, ttl: rrset[0].ttl, data: .rrsig(signature)))
            }
        }
        var root = SignedRoot(anchors: TrustAnchors())
        root.network.serve("10.0.0.1", zones: [try Zone(origin: .root, records: records + signatures)])
        let anchorDNSKEY = try (anchorKey ?? key).dnskey(flags: 257)
        let ds = try DNSSEC.delegationSigner(owner: .root, key: anchorDNSKEY, digestType: 2)
        root.anchors = try TrustAnchors.parse(
            "; the root's key\n" + "\(ResourceRecord(name: .root, ttl: 0, data: .ds(ds)))")
        return root
    }

    static func resolver(_ anchors: TrustAnchors) -> RecursiveResolver {
        let counter = Counter()
        return RecursiveResolver(
            settings: ResolverSettings(rootServers: [ServerAddress(host: "10.0.0.1")], trustAnchors: anchors),
            cache: ResolverCache(capacity: 1 << 20), randomID: { counter.next() })
    }

    static func extendedErrors(_ message: Message) -> [UInt16] {
        message.edns?.options.compactMap { option -> UInt16? in
            guard case .extendedError(let code, _) = option else { return nil }
            return code
        } ?? []
    }

    @Test func securePositiveAndNegativeAnswersGetAD() throws {
        var root = try Self.signedRoot()
        var resolver = Self.resolver(root.anchors)
        let answer = try root.network.ask(&resolver, "www.", .a, dnssecOK: true)
        #expect(answer.rcode == .noError && answer.authenticData)
        #expect(answer.answers.map(\.type).sorted() == [.a, .rrsig])
        let missing = try root.network.ask(&resolver, "nope.", .a, dnssecOK: true)
        #expect(missing.rcode == .nameError && missing.authenticData)
        #expect(missing.authority.contains { $0.type == .nsec }, "the proof goes to a DO client")
        let noData = try root.network.ask(&resolver, "www.", .mx, dnssecOK: true)
        #expect(noData.rcode == .noError && noData.answers.isEmpty && noData.authenticData)
        // From the cache: the same verdict; without DO no RRSIG and no AD (the query set neither AD nor DO).
        let again = try root.network.ask(&resolver, "www.", .a)
        #expect(again.answers.map(\.type) == [.a] && !again.authenticData)
        let cached = try root.network.ask(&resolver, "www.", .a, dnssecOK: true)
        #expect(cached.authenticData)
    }

    @Test func validatedNSECRecordsAnswerOtherMissingNamesWithoutAsking() throws {
        var root = try Self.signedRoot()
        var resolver = Self.resolver(root.anchors)
        let first = try root.network.ask(&resolver, "nope.", .a, dnssecOK: true)
        #expect(first.rcode == .nameError && first.authenticData)
        let asked = root.network.log.count
        // nope2. sorts between . and ns1., as nope. does: the same NSEC denies it (RFC 8198).
        let second = try root.network.ask(&resolver, "nope2.", .a, dnssecOK: true)
        #expect(second.rcode == .nameError && second.authenticData)
        #expect(second.authority.contains { $0.type == .soa } && second.authority.contains { $0.type == .nsec })
        #expect(root.network.log.count == asked, "answered from the NSEC already validated")
        #expect(resolver.statistics.synthesizedDenials == 1)
        // xyz. sorts after www., whose NSEC has not been seen: it is asked for.
        let third = try root.network.ask(&resolver, "xyz.", .a, dnssecOK: true)
        #expect(third.rcode == .nameError && third.authenticData)
        #expect(root.network.log.count > asked)
    }

    @Test func signaturesCountDownWithTheirRecords() throws {
        var root = try Self.signedRoot()
        var resolver = Self.resolver(root.anchors)
        _ = try root.network.ask(&resolver, "www.", .a, now: 1000, dnssecOK: true)
        let later = try root.network.ask(&resolver, "www.", .a, now: 1100, dnssecOK: true)
        #expect(later.answers.count == 2 && Set(later.answers.map(\.ttl)) == [3500])
        _ = try root.network.ask(&resolver, "www.", .mx, now: 1000, dnssecOK: true)
        let noData = try root.network.ask(&resolver, "www.", .mx, now: 1100, dnssecOK: true)
        #expect(noData.authority.allSatisfy { $0.ttl <= 200 }, "\(noData.authority)")
    }

    @Test func aTamperedSignatureIsBogusUnlessCheckingIsDisabled() throws {
        var root = try Self.signedRoot(tamperWith: "www. A")
        var resolver = Self.resolver(root.anchors)
        let answer = try root.network.ask(&resolver, "www.", .a, dnssecOK: true)
        #expect(answer.rcode == .serverFailure && answer.answers.isEmpty)
        #expect(Self.extendedErrors(answer) == [6])
        let unchecked = try root.network.ask(&resolver, "www.", .a, dnssecOK: true, checkingDisabled: true)
        #expect(unchecked.rcode == .noError && !unchecked.authenticData && unchecked.answers.contains { $0.type == .a })
        // Other data of the zone is still secure.
        let text = try root.network.ask(&resolver, "www.", .txt, dnssecOK: true)
        #expect(text.rcode == .noError && text.authenticData)
    }

    /// KeyTrap: a pile of signatures that all name the right key costs at most a few checks, and
    /// the answer is bogus rather than a CPU burnt on it.
    @Test func aPileOfBadSignaturesIsCutShort() throws {
        var root = try Self.signedRoot(junkSignaturesOverWWW: 40)
        var resolver = Self.resolver(root.anchors)
        let answer = try root.network.ask(&resolver, "www.", .a, dnssecOK: true)
        #expect(answer.rcode == .serverFailure && Self.extendedErrors(answer) == [6])
        let text = answer.edns?.options.compactMap { option -> String? in
            guard case .extendedError(_, let text) = option else { return nil }
            return String(decoding: text, as: UTF8.self)
        }
        #expect(text?.first?.contains("too many signatures") == true, "\(String(describing: text))")
    }

    @Test func aKeyTheAnchorDoesNotNameMakesEverythingBogus() throws {
        var root = try Self.signedRoot(anchorKey: try DNSSECSigningKey(generating: .ecdsaP256SHA256))
        var resolver = Self.resolver(root.anchors)
        let answer = try root.network.ask(&resolver, "www.", .a, dnssecOK: true)
        #expect(answer.rcode == .serverFailure && Self.extendedErrors(answer) == [9])
    }

    @Test func aForgedDenialIsBogus() throws {
        // The NSEC at ns1. carries a broken signature: it can no longer prove that nx. (after ns1.) is absent.
        var root = try Self.signedRoot(tamperWith: "ns1. NSEC")
        var resolver = Self.resolver(root.anchors)
        let answer = try root.network.ask(&resolver, "nx.", .a, dnssecOK: true)
        #expect(answer.rcode == .serverFailure && Self.extendedErrors(answer) == [6])
    }

    @Test func trustAnchorFilesNameTheirBadLine() throws {
        let anchors = try TrustAnchors.parse(
            "; comment\n. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n\n"
                + "example. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n")
        #expect(anchors.closest(to: try DomainName("www.example.")) == (try DomainName("example.")))
        #expect(anchors.closest(to: try DomainName("www.test.")) == .root)
        #expect(throws: ResolverFileError.self) { try TrustAnchors.parse("") }
        do {
            _ = try TrustAnchors.parse(". IN DS 20326 8 2 E06D\nexample. IN A 192.0.2.1\n")
            Issue.record("an A record was accepted as an anchor")
        } catch {
            #expect(error.line == 2, "\(error)")
        }
        do {
            _ = try TrustAnchors.parse("\n\n. IN DS nonsense\n")
            Issue.record("a malformed DS was accepted")
        } catch {
            #expect(error.line == 3, "\(error)")
        }
    }

    /// The NSEC logic alone, on a chain written by hand: example. → a. → x.b. → *.w. → example.
    @Test func nsecProofs() throws {
        func nsec(_ owner: String, _ next: String, _ types: [RecordType]) throws -> ResourceRecord {
            ResourceRecord(
                name: try DomainName(owner), ttl: 300,
                data: .nsec(NSECRecord(nextName: try DomainName(next), types: types)))
        }
        let proof = DenialProof(
            zone: try DomainName("example."),
            records: [
                try nsec("example.", "a.example.", [.soa, .ns, .nsec, .rrsig, .dnskey]),
                try nsec("a.example.", "x.b.example.", [.a, .nsec, .rrsig]),
                try nsec("x.b.example.", "*.w.example.", [.a, .nsec, .rrsig]),
                try nsec("*.w.example.", "example.", [.txt, .nsec, .rrsig]),
            ])
        #expect(proof.provesNameError(try DomainName("c.example.")))
        #expect(!proof.provesNameError(try DomainName("a.example.")))
        #expect(proof.provesNoData(try DomainName("a.example."), .txt))
        #expect(!proof.provesNoData(try DomainName("a.example."), .a))
        // b.example. is an empty non-terminal: the name after a.example. lies below it.
        #expect(proof.provesNoData(try DomainName("b.example."), .a))
        #expect(proof.provesWildcardExpansion(try DomainName("q.w.example."), labels: 2))
        #expect(!proof.provesWildcardExpansion(try DomainName("a.example."), labels: 1))
        // Wildcard NODATA: q.w.example. does not exist and *.w.example. has no MX.
        #expect(proof.provesNoData(try DomainName("q.w.example."), .mx))
        #expect(!proof.provesNoData(try DomainName("q.w.example."), .txt))
    }
}
