import DNS
import DNSServer
import Testing

/// RFC 2136 processing on a zone in memory: prescan before change, the apex protections, CNAME
/// exclusivity, the serial, and the policy's reach.
@Suite struct UpdateTests {
    let origin: DomainName
    let authority: Authority
    let key: DomainName
    let everything: UpdatePolicy

    init() throws {
        origin = try DomainName("example.com.")
        let text = """
            $ORIGIN example.com.
            $TTL 300
            @ IN SOA ns1 hostmaster 7 100 20 1000 60
              IN NS ns1
            ns1 IN A 192.0.2.53
            www IN A 192.0.2.1
            alias IN CNAME www
            """
        authority = Authority(zones: [try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))])
        key = try DomainName("k.")
        everything = UpdatePolicy([UpdatePolicy.Rule(key: key)])
    }

    func update(_ updates: [String], prerequisites: [String] = []) throws -> Message {
        func records(_ lines: [String]) throws -> [ResourceRecord] {
            try lines.map { line in
                if let empty = line.wholeMatch(of: /(\S+) (ANY|NONE) (\S+)/) {
                    let type = try #require(RecordType(String(empty.3)))
                    return ResourceRecord(
                        name: try DomainName(String(empty.1)), recordClass: empty.2 == "ANY" ? .any : .none, ttl: 0,
                        data: .unknown(UnknownRecord(type: type, bytes: [])))
                }
                if line.hasPrefix("delete ") {
                    // One record to delete: its data with class NONE and TTL 0.
                    var record = try #require(try ZoneParser(origin: origin).parse(String(line.dropFirst(7))).first)
                    record.recordClass = .none
                    record.ttl = 0
                    return record
                }
                return try #require(try ZoneParser(origin: origin).parse("$TTL 300\n" + line).first)
            }
        }
        return Message(
            id: 1, opcode: .update, questions: [Question(name: origin, type: .soa)],
            answers: try records(prerequisites), authority: try records(updates))
    }

    func changed(_ result: UpdateResult) throws -> Zone {
        guard case .changed(let zone, _) = result else {
            Issue.record("expected a change, got \(result)")
            throw UpdateTestFailure()
        }
        return zone
    }

    @Test func anAdditionBumpsTheSerialAndKeepsTheRest() throws {
        let zone = try changed(
            authority.update(try update(["new.example.com. 60 IN A 192.0.2.9"]), signedBy: key, policy: everything))
        #expect(zone[.soa, at: origin]?.records.first?.serial == 8)
        #expect(zone[.a, at: try DomainName("new.example.com.")]?.records.first?.address.description == "192.0.2.9")
        #expect(zone[.a, at: try DomainName("www.example.com.")] != nil)
    }

    @Test func addingWhatIsThereOrDeletingWhatIsNotChangesNothing() throws {
        for updates in [["www.example.com. 300 IN A 192.0.2.1"], ["nothing.example.com. ANY A"]] {
            guard case .unchanged = authority.update(try update(updates), signedBy: key, policy: everything) else {
                Issue.record("\(updates) changed the zone")
                continue
            }
        }
    }

    @Test func oneBadRecordRejectsTheWholeUpdate() throws {
        let message = try update(["new.example.com. 60 IN A 192.0.2.9", "outside.example.org. 60 IN A 192.0.2.9"])
        guard case .rejected(let code, _) = authority.update(message, signedBy: key, policy: everything) else {
            Issue.record("accepted")
            return
        }
        #expect(code == .notZone)
    }

    @Test func theApexKeepsItsSOAAndLastNS() throws {
        // Deleting everything at the apex leaves SOA and NS; deleting the only NS does nothing.
        let result = authority.update(
            try update(["example.com. ANY ANY", "delete example.com. 300 IN NS ns1.example.com."]), signedBy: key,
            policy: everything)
        guard case .unchanged = result else {
            Issue.record("the apex lost its SOA or last NS: \(result)")
            return
        }
        // An SOA with an older serial is ignored; a newer one replaces it and is not bumped again.
        let older = authority.update(
            try update(["example.com. 300 IN SOA ns1 hostmaster 3 100 20 1000 60"]), signedBy: key, policy: everything)
        if case .changed = older { Issue.record("an older SOA was taken") }
        let newer = try changed(
            authority.update(
                try update(["example.com. 300 IN SOA ns1 hostmaster 50 100 20 1000 60"]), signedBy: key,
                policy: everything))
        #expect(newer[.soa, at: origin]?.records.first?.serial == 50)
    }

    @Test func aCNAMEDoesNotShareItsName() throws {
        let result = authority.update(
            try update(["alias.example.com. 60 IN A 192.0.2.5", "www.example.com. 60 IN CNAME elsewhere.example.net."]),
            signedBy: key, policy: everything)
        if case .changed = result { Issue.record("a CNAME conflict was applied") }
    }

    @Test func thePolicyNarrowsByZoneNameAndType() throws {
        let narrow = try #require(UpdatePolicy.Rule("key:k,zone=example.com,name=dyn.example.com,types=A+AAAA"))
        let policy = UpdatePolicy([narrow])
        let inside = authority.update(
            try update(["h.dyn.example.com. 60 IN A 192.0.2.1"]), signedBy: key, policy: policy)
        _ = try changed(inside)
        for (updates, signer) in [
            (["h.dyn.example.com. 60 IN TXT \"x\""], key), (["www.example.com. 60 IN A 192.0.2.2"], key),
            (["h.dyn.example.com. 60 IN A 192.0.2.1"], try DomainName("other.")),
        ] {
            guard case .rejected(let code, _) = authority.update(try update(updates), signedBy: signer, policy: policy)
            else {
                Issue.record("\(updates) by \(signer) was accepted")
                continue
            }
            #expect(code == .refused)
        }
        guard
            case .rejected(.refused, _) = authority.update(
                try update(["h.dyn.example.com. 60 IN A 192.0.2.1"]), signedBy: nil, policy: policy)
        else {
            Issue.record("an unsigned update was accepted")
            return
        }
        #expect(UpdatePolicy.Rule("k") == nil)
        #expect(UpdatePolicy.Rule("key:k,types=NOTATYPE") == nil)
        #expect(UpdatePolicy.Rule("key:k,color=blue") == nil)
    }
}

struct UpdateTestFailure: Error {}
