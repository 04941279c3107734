import DNS
import DNSClient
import Testing

@Suite struct DigFormatterTests {
    private func record(_ line: String) throws -> ResourceRecord {
        let records = try ZoneParser(origin: .root).parse(line + "\n")
        guard let first = records.first else { throw PresentationError(line: 1, column: 1, reason: "no record") }
        return first
    }

    /// The lines dig 9.18 printed for these records (copied from its output): BIND's tab stops at
    /// 24, 32, 40 and 48, and one space once a field runs past its column.
    @Test func recordLinesUseBINDsColumns() throws {
        #expect(
            DigFormatter.recordLine(try record("www.example.com. 3600 IN CNAME web.example.com."))
                == "www.example.com.\t3600\tIN\tCNAME\tweb.example.com.")
        #expect(
            DigFormatter.recordLine(try record("example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5"))
                == "example.com.\t\t300\tIN\tSOA\tns1.example.com. h.example.com. 1 2 3 4 5")
        #expect(
            DigFormatter.recordLine(try record("averyveryverylongname-to-see-tabs.example.com. 3600 IN A 192.0.2.1"))
                == "averyveryverylongname-to-see-tabs.example.com. 3600 IN A 192.0.2.1")
        // BIND splits a long trailing hex or base64 field into 56-character chunks.
        #expect(
            DigFormatter.recordLine(
                try record(
                    "sub.example.com. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
                ))
                == "sub.example.com.\t3600\tIN\tDS\t12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF"
        )
        #expect(
            DigFormatter.questionLine(Question(name: try DomainName("www.example.com."), type: .a))
                == ";www.example.com.\t\tIN\tA")
        #expect(
            DigFormatter.questionLine(Question(name: try DomainName("abcdefghijkl.example.com."), type: .a))
                == ";abcdefghijkl.example.com.\tIN\tA")
        #expect(
            DigFormatter.questionLine(Question(name: try DomainName("example.com."), type: RecordType(rawValue: 65000)))
                == ";example.com.\t\t\tIN\tTYPE65000")
    }

    @Test func aWholeAnswerHasDigsLayout() throws {
        let answers = [
            try record("www.example.com. 3600 IN CNAME web.example.com."),
            try record("web.example.com. 3600 IN A 192.0.2.80"),
        ]
        let message = Message(
            id: 39545, isResponse: true, authoritative: true, recursionDesired: true,
            questions: [Question(name: try DomainName("www.example.com."), type: .a)], answers: answers,
            edns: EDNS(udpPayloadSize: 1232))
        let exchange = DigExchange(
            response: ClientResponse(message: message, size: 94), server: ServerAddress(host: "127.0.0.1", port: 53999),
            transport: .udp, milliseconds: 3, when: 1_795_936_492)
        let text = DigFormatter.answer(exchange)
        let expected = """
            ;; Got answer:
            ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 39545
            ;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1
            ;; WARNING: recursion requested but not available

            ;; OPT PSEUDOSECTION:
            ; EDNS: version: 0, flags:; udp: 1232
            ;; QUESTION SECTION:
            ;www.example.com.\t\tIN\tA

            ;; ANSWER SECTION:
            www.example.com.\t3600\tIN\tCNAME\tweb.example.com.
            web.example.com.\t3600\tIN\tA\t192.0.2.80

            ;; Query time: 3 msec
            ;; SERVER: 127.0.0.1#53999(127.0.0.1) (UDP)
            ;; WHEN: Sun Nov 29 07:14:52 UTC 2026
            ;; MSG SIZE  rcvd: 94


            """
        #expect(text == expected)
    }

    @Test func flagsStatusDOAndCookies() throws {
        let cookie: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let message = Message(
            id: 1, isResponse: true, truncated: true, recursionDesired: true, recursionAvailable: true,
            authenticData: true, checkingDisabled: true, rcode: .nameError,
            edns: EDNS(dnssecOK: true, options: [.cookie(client: cookie, server: Array(repeating: 0xAB, count: 8))]))
        let text = DigFormatter.message(message, clientCookie: cookie)
        #expect(text.contains(";; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 1\n"))
        #expect(text.contains(";; flags: qr tc rd ra ad cd; QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1\n"))
        #expect(!text.contains("WARNING"))
        #expect(text.contains("; EDNS: version: 0, flags: do; udp: 1232\n"))
        #expect(text.contains("; COOKIE: 0102030405060708abababababababab (good)\n"))
        #expect(DigFormatter.message(message, clientCookie: [9, 9, 9, 9, 9, 9, 9, 9]).contains("(bad)"))
    }

    @Test func shortPrintsOnlyTheData() throws {
        let message = Message(answers: [
            try record("example.com. 60 IN MX 10 mail.example.com."),
            try record("example.com. 60 IN TXT \"v=spf1 -all\""),
        ])
        #expect(DigFormatter.short(message) == "10 mail.example.com.\n\"v=spf1 -all\"\n")
    }

    @Test func datesAreDigsUTCForm() {
        #expect(DigFormatter.dateText(0) == "Thu Jan 01 00:00:00 UTC 1970")
        #expect(DigFormatter.dateText(951_782_400) == "Tue Feb 29 00:00:00 UTC 2000")
        #expect(DigFormatter.dateText(1_795_936_492) == "Sun Nov 29 07:14:52 UTC 2026")
        #expect(DigFormatter.dateText(-1) == "Wed Dec 31 23:59:59 UTC 1969")
    }
}
