import Foundation
import TestSupport
import Testing

/// quercus-resolver's DNSSEC validation against Unbound's: a private tree signed with BIND's
/// dnssec-signzone and served by NSD on loopback addresses (secure zones with NSEC and NSEC3, an
/// insecure delegation, a tampered signature, expired signatures, a DS that matches no key,
/// ED25519 and RSA keys), both resolvers given the same root hints and the root's trust anchor.
@Suite(.serialized) struct ResolverDNSSECInteropTests {
    @Test func answersAndADBitMatchUnboundOverTheSignedTree() throws {
        let tree = try SignedTree()
        defer { tree.stop() }
        let unbound = try tree.startUnbound(anchor: tree.dsAnchor)
        defer { unbound.process.stop() }
        // First Unbound, then ours, each from a cold cache over the whole corpus, timed (not asserted).
        var unboundTime = ColdCacheTime()
        let theirAnswers = try SignedTree.corpus.map { question in
            try unboundTime.measure {
                try digValidated(at: unbound.address, port: unbound.port, question.name, question.type)
            }
        }
        // The tree is what it claims to be: Unbound gives each question its intended kind of answer.
        let unexpected = zip(SignedTree.corpus, theirAnswers).filter { !$0.isExpected($1) }
        #expect(
            unexpected.isEmpty,
            "Unbound does not see the tree as built:\n\(unexpected.map { "\($0) (\($0.outcome)): \($1)" }.joined(separator: "\n"))"
        )

        let ours = try startResolver(["--root-hints", tree.rootHints, "--trust-anchor", tree.dsAnchor])
        defer { ours.process.stop() }
        var ourTime = ColdCacheTime()
        let ourAnswers = try SignedTree.corpus.map { question in
            try ourTime.measure { try digValidated(at: ours.address, port: ours.port, question.name, question.type) }
        }
        print(
            "ResolverDNSSEC cold cache, \(SignedTree.corpus.count) questions one at a time: "
                + "Unbound \(unboundTime); quercus-resolver \(ourTime)")

        var differences: [String] = []
        var extendedErrors: [String] = []
        for (question, (theirs, mine)) in zip(SignedTree.corpus, zip(theirAnswers, ourAnswers)) {
            if theirs.status != mine.status || theirs.authenticated != mine.authenticated
                || theirs.records != mine.records
            {
                differences.append("\(question):\n  unbound: \(theirs)\n  ours:    \(mine)")
            }
            differences += Self.missingSOA(question, theirs, mine)
            if theirs.status == "SERVFAIL" {
                extendedErrors.append(
                    "\(question): unbound EDE \(theirs.extendedErrors), ours EDE \(mine.extendedErrors)")
                #expect(
                    mine.extendedErrors.contains { (6...12).contains($0) },
                    "\(question): a validation failure must carry a DNSSEC EDE (6-12); ours: \(mine)")
            }
        }
        print("ResolverDNSSEC EDE on SERVFAIL:\n  " + extendedErrors.joined(separator: "\n  "))
        #expect(
            differences.isEmpty,
            "\(differences.count) differences:\n\(differences.joined(separator: "\n"))\n\(ours.process.output.suffix(3000))"
        )

        // Second pass with the DO bit, from the caches: the same records with their RRSIGs, and
        // each RRSIG's TTL counted down with the RRset it covers (RFC 4035 section 2.2: equal TTLs).
        sleep(2)
        var signedDifferences: [String] = []
        var signatures = 0
        var authorityDifferences: [String] = []
        for question in SignedTree.corpus {
            let theirs = try digValidated(
                at: unbound.address, port: unbound.port, question.name, question.type, dnssec: true)
            let mine = try digValidated(at: ours.address, port: ours.port, question.name, question.type, dnssec: true)
            signatures += theirs.records.filter { $0.split(separator: " ").dropFirst().first == "RRSIG" }.count
            if theirs.status != mine.status || theirs.authenticated != mine.authenticated
                || theirs.records != mine.records
            {
                signedDifferences.append("\(question) +dnssec:\n  unbound: \(theirs)\n  ours:    \(mine)")
            }
            for (answer, who) in [(theirs, "unbound"), (mine, "ours")] {
                for (key, ttl) in answer.ttls where key.contains(" RRSIG ") {
                    let covered = key.replacingOccurrences(of: " RRSIG ", with: " ")
                    if let rrsetTTL = answer.ttls[covered], rrsetTTL != ttl {
                        signedDifferences.append(
                            "\(question) +dnssec: \(who): \(key) has TTL \(ttl), the RRset it covers \(rrsetTTL)")
                    }
                }
            }
            signedDifferences += Self.missingSOA(question, theirs, mine)
            if theirs.answer.authorityTypes != mine.answer.authorityTypes {
                authorityDifferences.append(
                    "\(question): unbound \(theirs.answer.authorityTypes)\n    ours    \(mine.answer.authorityTypes)")
            }
        }
        // The denial records each chooses to send may differ (both are proofs); shown, not asserted.
        print(
            "ResolverDNSSEC +dnssec authority sections that differ (not asserted):\n  "
                + authorityDifferences.joined(separator: "\n  "))
        // Every secure answer with records carries at least one signature.
        #expect(signatures >= SignedTree.corpus.filter { $0.outcome == .secure }.count)
        #expect(
            signedDifferences.isEmpty,
            "\(signedDifferences.count) differences:\n\(signedDifferences.joined(separator: "\n"))")
    }

    /// A negative answer carries its zone's SOA in the authority section (RFC 2308 section 3), so
    /// that whoever asked can cache it; Unbound's do.
    static func missingSOA(_ question: SignedQuestion, _ theirs: DigValidatedAnswer, _ mine: DigValidatedAnswer)
        -> [String]
    {
        let negative = theirs.status == "NXDOMAIN" || (theirs.status == "NOERROR" && theirs.records.isEmpty)
        guard negative, theirs.answer.authorityTypes.contains(where: { $0.hasSuffix(" SOA") }),
            !mine.answer.authorityTypes.contains(where: { $0.hasSuffix(" SOA") })
        else { return [] }
        return ["\(question): our negative answer has no SOA: authority \(mine.answer.authorityTypes)"]
    }

    @Test func aTrustAnchorInDNSKEYFormGivesTheSameAnswers() throws {
        let tree = try SignedTree()
        defer { tree.stop() }
        let unbound = try tree.startUnbound(anchor: tree.dnskeyAnchor)
        defer { unbound.process.stop() }
        let ours = try startResolver(["--root-hints", tree.rootHints, "--trust-anchor", tree.dnskeyAnchor])
        defer { ours.process.stop() }
        let questions = SignedTree.corpus.filter {
            [
                "www.secure.test A", "nope.nsec3.test A", "x.wild.secure.test TXT", "www.insecure.test A",
                "www.bogus.test A", "www.badds.test A",
            ].contains($0.description)
        }
        #expect(questions.count == 6)
        for question in questions {
            let theirs = try digValidated(at: unbound.address, port: unbound.port, question.name, question.type)
            let mine = try digValidated(at: ours.address, port: ours.port, question.name, question.type)
            #expect(question.isExpected(theirs), "\(question) (\(question.outcome)): Unbound answered \(theirs)")
            #expect(
                theirs.status == mine.status && theirs.authenticated == mine.authenticated
                    && theirs.records == mine.records,
                "\(question):\n  unbound: \(theirs)\n  ours:    \(mine)")
        }
    }

    @Test func aTrustAnchorFileThatDoesNotParseIsRefusedWithItsLine() throws {
        let directory = try TemporaryDirectory("resolver-anchor")
        defer { directory.remove() }
        let anchor = try directory.write(
            "anchor",
            """
            . IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
            . IN DS twenty 8 2 NOT-HEX

            """)
        let result = try run(
            try Product.path("quercus-resolver"), ["--trust-anchor", anchor], timeout: 30)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(anchor) && result.stderr.contains("line 2"), "\(result.stderr)")
    }
}

/// Wall time over a run of questions, and the sum of the query times dig reported (which leave
/// out dig's own start-up).
struct ColdCacheTime: CustomStringConvertible {
    var seconds = 0.0
    var digMilliseconds = 0

    mutating func measure(_ ask: () throws -> DigValidatedAnswer) rethrows -> DigValidatedAnswer {
        let started = Date()
        let answer = try ask()
        seconds += Date().timeIntervalSince(started)
        digMilliseconds += answer.milliseconds
        return answer
    }

    var description: String {
        "\(Int((seconds * 1000).rounded())) ms wall with dig's start-up, \(digMilliseconds) ms by dig's query times"
    }
}

/// A question to the signed tree and the kind of answer a validating resolver gives it.
struct SignedQuestion: CustomStringConvertible, Sendable {
    enum Outcome: String, Sendable {
        /// NOERROR with records, AD set.
        case secure
        /// NOERROR without records (NODATA), AD set: the denial was proven.
        case secureNoData
        /// NXDOMAIN, AD set.
        case secureNXDOMAIN
        /// NOERROR with records, no AD: a link of the chain is unsigned.
        case insecure
        case insecureNXDOMAIN
        /// SERVFAIL with a DNSSEC EDE (6-12).
        case bogus
    }

    let name: String
    let type: String
    let outcome: Outcome

    init(_ name: String, _ type: String, _ outcome: Outcome) {
        self.name = name
        self.type = type
        self.outcome = outcome
    }

    var description: String { "\(name) \(type)" }

    func isExpected(_ answer: DigValidatedAnswer) -> Bool {
        switch outcome {
        case .secure: answer.status == "NOERROR" && answer.authenticated && !answer.records.isEmpty
        case .secureNoData: answer.status == "NOERROR" && answer.authenticated && answer.records.isEmpty
        case .secureNXDOMAIN: answer.status == "NXDOMAIN" && answer.authenticated
        case .insecure: answer.status == "NOERROR" && !answer.authenticated && !answer.records.isEmpty
        case .insecureNXDOMAIN: answer.status == "NXDOMAIN" && !answer.authenticated
        case .bogus:
            answer.status == "SERVFAIL" && !answer.authenticated
                && answer.extendedErrors.contains { (6...12).contains($0) }
        }
    }
}

/// A signed DNS tree on loopback addresses 127.54.N.x (N random per run), every zone on its own
/// NSD at port 53, signed with dnssec-signzone (ECDSA P-256 KSK and ZSK unless noted):
///
/// | host | zone | what it is |
/// | --- | --- | --- |
/// | .1 | `.` | signed; its KSK is the trust anchor, written as a DS and as a DNSKEY |
/// | .2 | `test.` | signed with NSEC; DS for every leaf but `insecure.` (none) and `badds.` (another key's) |
/// | .3 | `secure.test.` | NSEC: A, AAAA, MX, TXT, CNAMEs inside, to `nsec3.test.` and to `insecure.test.`, a wildcard, an empty non-terminal |
/// | .4 | `nsec3.test.` | NSEC3 (salt, 0 extra iterations, RFC 9276): an A record, a wildcard, an empty non-terminal |
/// | .5 | `insecure.test.` | unsigned, no DS: insecure |
/// | .6 | `bogus.test.` | signed, but the RRSIG of `www` A has a byte changed: bogus |
/// | .7 | `expired.test.` | signed with signatures valid January 2020 only: bogus |
/// | .8 | `badds.test.` | signed, but its DS in `test.` is of a key it does not have: bogus |
/// | .9 | `ed.test.` | ED25519 (algorithm 15) |
/// | .10 | `rsa.test.` | RSA/SHA-256 (algorithm 8), 2048-bit keys |
struct SignedTree {
    let directory: TemporaryDirectory
    let prefix: String
    let rootHints: String
    /// The root KSK's DS, as dnssec-dsfromkey prints it (`. IN DS …`).
    let dsAnchor: String
    /// The root KSK itself (`. IN DNSKEY 257 3 13 …`).
    let dnskeyAnchor: String
    private var servers: [BackgroundProcess] = []

    static let corpus: [SignedQuestion] = [
        // The root, the TLD, DS and DNSKEY at the zone apexes.
        SignedQuestion(".", "SOA", .secure), SignedQuestion(".", "DNSKEY", .secure),
        SignedQuestion("test", "DS", .secure), SignedQuestion("test", "DNSKEY", .secure),
        SignedQuestion("nothing.test", "A", .secureNXDOMAIN), SignedQuestion("secure.test", "DS", .secure),
        SignedQuestion("secure.test", "DNSKEY", .secure),
        // NSEC: answers, CNAME chains within the zone and across signed zones, wildcard, denials.
        SignedQuestion("www.secure.test", "A", .secure), SignedQuestion("secure.test", "MX", .secure),
        SignedQuestion("txt.secure.test", "TXT", .secure), SignedQuestion("alias.secure.test", "A", .secure),
        SignedQuestion("cross.secure.test", "A", .secure), SignedQuestion("x.wild.secure.test", "TXT", .secure),
        SignedQuestion("x.wild.secure.test", "A", .secureNoData),
        SignedQuestion("nope.secure.test", "A", .secureNXDOMAIN),
        SignedQuestion("www.secure.test", "MX", .secureNoData), SignedQuestion("b.secure.test", "A", .secureNoData),
        // NSEC3.
        SignedQuestion("www.nsec3.test", "A", .secure), SignedQuestion("nope.nsec3.test", "A", .secureNXDOMAIN),
        SignedQuestion("www.nsec3.test", "TXT", .secureNoData), SignedQuestion("y.wild.nsec3.test", "TXT", .secure),
        SignedQuestion("y.wild.nsec3.test", "A", .secureNoData), SignedQuestion("b.nsec3.test", "A", .secureNoData),
        // The insecure delegation: its DS is provably absent (secure), what is below it is insecure.
        SignedQuestion("insecure.test", "DS", .secureNoData), SignedQuestion("www.insecure.test", "A", .insecure),
        SignedQuestion("nope.insecure.test", "A", .insecureNXDOMAIN),
        SignedQuestion("toinsecure.secure.test", "A", .insecure),
        SignedQuestion("back.insecure.test", "A", .insecure),
        // Broken zones: the DS and keys of bogus.test. are fine, only one RRset is not.
        SignedQuestion("bogus.test", "SOA", .secure), SignedQuestion("www.bogus.test", "A", .bogus),
        SignedQuestion("www.expired.test", "A", .bogus), SignedQuestion("www.badds.test", "A", .bogus),
        // Other algorithms.
        SignedQuestion("www.ed.test", "A", .secure), SignedQuestion("www.rsa.test", "A", .secure),
    ]

    /// Leaf zones: host, name, records (relative to the zone), algorithm and signing options.
    private static func leaves(_ p: String) -> [(host: Int, name: String, text: String, algorithm: String)] {
        let small = { (host: Int, name: String, algorithm: String) in
            (host, name, "www A 192.0.2.\(host)", algorithm)
        }
        return [
            (
                3, "secure",
                """
                @ MX 10 mail
                mail A 192.0.2.25
                www A 192.0.2.80
                www AAAA 2001:db8::80
                txt TXT "hello world"
                alias CNAME www
                cross CNAME www.nsec3.test.
                toinsecure CNAME www.insecure.test.
                *.wild TXT "wild secure"
                a.b A 192.0.2.2
                """, "ECDSAP256SHA256"
            ),
            (
                4, "nsec3",
                """
                www A 192.0.2.3
                *.wild TXT "wild nsec3"
                a.b A 192.0.2.4
                """, "ECDSAP256SHA256"
            ),
            (5, "insecure", "www A 192.0.2.5\nback CNAME www.secure.test.", ""),
            small(6, "bogus", "ECDSAP256SHA256"), small(7, "expired", "ECDSAP256SHA256"),
            small(8, "badds", "ECDSAP256SHA256"), small(9, "ed", "ED25519"), small(10, "rsa", "RSASHA256"),
        ]
    }

    init() throws {
        directory = try TemporaryDirectory("resolver-signed-tree")
        prefix = "127.54.\(Int.random(in: 10...250))"
        let p = prefix
        do {
            let signer = try Signer(directory: directory)
            // Leaves first: their DS records go into test., whose DS goes into the root.
            var delegations: [String] = []
            for leaf in Self.leaves(p) {
                let origin = "\(leaf.name).test."
                let text = """
                    $ORIGIN \(origin)
                    $TTL 300
                    @ SOA ns hostmaster 1 3600 900 604800 300
                    @ NS ns
                    ns A \(p).\(leaf.host)
                    \(leaf.text)

                    """
                delegations.append("\(leaf.name) NS ns.\(leaf.name)\nns.\(leaf.name) A \(p).\(leaf.host)")
                switch leaf.name {
                case "insecure":
                    try directory.write("\(leaf.name).signed", text)
                case "nsec3":
                    let ksk = try signer.sign(
                        origin, text, into: "\(leaf.name).signed", options: ["-3", "a1b2c3d4", "-H", "0"])
                    delegations.append(try signer.ds(ksk))
                case "expired":
                    // Signatures that ended years ago (dnssec-signzone's own check of them is skipped).
                    let ksk = try signer.sign(
                        origin, text, into: "\(leaf.name).signed",
                        options: ["-s", "20200101000000", "-e", "20200201000000", "-P"])
                    delegations.append(try signer.ds(ksk))
                case "badds":
                    _ = try signer.sign(origin, text, into: "\(leaf.name).signed")
                    // The DS of a key made for the name but never published in the zone.
                    delegations.append(try signer.ds(try signer.keygen(origin, ksk: true, folder: "unused")))
                default:
                    let ksk = try signer.sign(origin, text, into: "\(leaf.name).signed", algorithm: leaf.algorithm)
                    delegations.append(try signer.ds(ksk))
                }
            }
            try Self.tamperSignature(directory.file("bogus.signed"), owner: "www.bogus.test.", covering: "A")
            let testKSK = try signer.sign(
                "test.",
                """
                $ORIGIN test.
                $TTL 3600
                @ SOA ns hostmaster 1 3600 900 604800 300
                @ NS ns
                ns A \(p).2
                \(delegations.joined(separator: "\n"))

                """, into: "test.signed")
            let rootKSK = try signer.sign(
                ".",
                """
                $ORIGIN .
                $TTL 3600
                @ SOA ns1. hostmaster. 1 3600 900 604800 300
                @ NS ns1.
                ns1. A \(p).1
                test. NS ns.test.
                ns.test. A \(p).2
                \(try signer.ds(testKSK))

                """, into: "root.signed")
            dsAnchor = try directory.write("anchor.ds", try signer.ds(rootKSK) + "\n")
            let key = try String(contentsOfFile: signer.keyFile(rootKSK), encoding: .utf8)
            dnskeyAnchor = try directory.write(
                "anchor.dnskey",
                key.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.isEmpty }.joined(separator: "\n") + "\n")
            rootHints = try directory.write("root.hints", ". 3600 NS ns1.\nns1. 3600 A \(p).1\n")
        } catch {
            directory.remove()
            throw error
        }
        let zones =
            [(1, ".", "root"), (2, "test.", "test")] + Self.leaves(p).map { ($0.host, "\($0.name).test.", $0.name) }
        var started: [BackgroundProcess] = []
        do {
            for (host, origin, file) in zones {
                started.append(
                    try startNSD(in: directory, address: "\(p).\(host)", origin: origin, zoneFile: "\(file).signed"))
            }
        } catch {
            for server in started { server.stop() }
            directory.remove()
            throw error
        }
        servers = started
    }

    /// Changes one character in the middle of the base64 signature of the RRSIG covering
    /// `owner`/`type` in a zone file written by `dnssec-signzone -O full` (one record a line).
    static func tamperSignature(_ path: String, owner: String, covering type: String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false
        )
        .map(String.init)
        guard
            let index = lines.firstIndex(where: { line in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return fields.count > 5 && fields[0] == owner && fields[3] == "RRSIG" && fields[4] == type
            })
        else {
            throw PeerDidNotStart(
                name: "dnssec-signzone (no RRSIG \(type) at \(owner))", output: lines.joined(separator: "\n"))
        }
        var fields = lines[index].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var signature = Array(fields[fields.count - 1])
        signature[4] = signature[4] == "A" ? "B" : "A"
        fields[fields.count - 1] = String(signature)
        lines[index] = fields.joined(separator: " ")
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Unbound, validating from `anchor` with the same root hints, Extended DNS Errors on.
    func startUnbound(anchor: String) throws -> RunningResolver {
        try startUnboundPeer(in: directory, address: "\(prefix).100", rootHints: rootHints, anchor: anchor)
    }

    func stop() {
        for server in servers { server.stop() }
        directory.remove()
    }
}

/// BIND's dnssec-keygen, dnssec-signzone and dnssec-dsfromkey over one folder of keys.
private struct Signer {
    let directory: TemporaryDirectory
    let keygen: String
    let signzone: String
    let dsfromkey: String

    init(directory: TemporaryDirectory) throws {
        self.directory = directory
        keygen = try Peer.command("dnssec-keygen", debian: "bind9utils")
        signzone = try Peer.command("dnssec-signzone", debian: "bind9utils")
        dsfromkey = try Peer.command("dnssec-dsfromkey", debian: "bind9utils")
    }

    /// Makes a key in `folder` (under the tree's folder) and returns its path without `.key`.
    func keygen(_ origin: String, ksk: Bool, algorithm: String = "ECDSAP256SHA256", folder: String = "keys") throws
        -> String
    {
        try FileManager.default.createDirectory(atPath: directory.file(folder), withIntermediateDirectories: true)
        let size = algorithm.hasPrefix("RSA") ? ["-b", "2048"] : []
        let made = try run(
            keygen,
            ["-q", "-K", folder, "-a", algorithm] + size + (ksk ? ["-f", "KSK"] : []) + ["-n", "ZONE", origin],
            currentDirectory: directory.path)
        guard made.status == 0 else { throw PeerDidNotStart(name: "dnssec-keygen \(origin)", output: made.stderr) }
        return directory.file("\(folder)/\(made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
    }

    func keyFile(_ key: String) -> String { key + ".key" }

    /// Writes the zone, makes a KSK and a ZSK, signs it (NSEC unless `options` say otherwise,
    /// signatures from an hour ago for 30 days) into `file`, one record a line; returns the KSK.
    func sign(
        _ origin: String, _ text: String, into file: String, algorithm: String = "ECDSAP256SHA256",
        options: [String] = []
    ) throws -> String {
        let unsigned = try directory.write(file + ".unsigned", text)
        let ksk = try keygen(origin, ksk: true, algorithm: algorithm)
        _ = try keygen(origin, ksk: false, algorithm: algorithm)
        let signed = try run(
            signzone,
            ["-S", "-K", "keys", "-O", "full", "-o", origin, "-f", directory.file(file)] + options + [unsigned],
            currentDirectory: directory.path)
        guard signed.status == 0 else {
            throw PeerDidNotStart(name: "dnssec-signzone \(origin)", output: signed.stdout + signed.stderr)
        }
        return ksk
    }

    /// The key's DS record (SHA-256) as a zone-file line: `owner IN DS tag alg 2 digest`.
    func ds(_ key: String) throws -> String {
        let made = try run(dsfromkey, ["-2", keyFile(key)])
        guard made.status == 0 else { throw PeerDidNotStart(name: "dnssec-dsfromkey \(key)", output: made.stderr) }
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
