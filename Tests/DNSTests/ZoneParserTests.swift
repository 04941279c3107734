import Testing

@testable import DNS

@Suite struct ZoneParserTests {
    private let origin = (try? DomainName("example.com.")) ?? .root

    @Test func includeGoesThroughTheLoaderAndCannotRecurseForever() throws {
        let files = [
            "a.db": "a A 192.0.2.1\n$INCLUDE b.db\n", "b.db": "b A 192.0.2.2\n", "loop.db": "$INCLUDE loop.db\n",
        ]
        let parser = ZoneParser(origin: origin) { path in
            files[path].map { .success($0) } ?? .failure(IncludeFailure("no such file"))
        }
        let records = try parser.parse("$TTL 60\n$INCLUDE a.db\n")
        #expect(records.map(\.name.description) == ["a.example.com.", "b.example.com."])

        #expect(throws: PresentationError.self) { try parser.parse("$TTL 60\n$INCLUDE loop.db\n") }
        do {
            _ = try parser.parse("$TTL 60\n$INCLUDE missing.db\n", file: "main.db")
            Issue.record("a missing include was accepted")
        } catch {
            #expect(error.file == "main.db")
            #expect(error.line == 2 && error.column == 10)
            #expect(error.reason.contains("no such file"))
        }
        // Without a loader, $INCLUDE is refused.
        #expect(throws: PresentationError.self) { try ZoneParser(origin: origin).parse("$INCLUDE a.db\n") }
    }

    /// BIND's $GENERATE modifiers: offset, width, base, and the nibble form for reverse IPv6.
    @Test func generateModifiers() throws {
        let records = try ZoneParser(origin: origin).parse(
            """
            $TTL 60
            $GENERATE 8-10/2 x${-8,3,o} TXT "n=$ \\$"
            $GENERATE 255-255 ${0,5,n}.ip6 PTR h$
            $GENERATE 255-255 ${0,0,N}.ip6 PTR h$
            """)
        #expect(
            records.map(\.description) == [
                "x000.example.com. 60 IN TXT \"n=8\" \"$\"",
                "x002.example.com. 60 IN TXT \"n=10\" \"$\"",
                "f.f.0.ip6.example.com. 60 IN PTR h255.example.com.",
                "F.F.ip6.example.com. 60 IN PTR h255.example.com.",
            ])
    }

    @Test func errorsPointAtTheToken() {
        for (text, line, column) in [
            ("$TTL 60\nwww A 192.0.2.1 extra\n", 2, 17),
            ("$TTL 60\n  A 192.0.2.1\n", 2, 3),
            ("$TTL 1y\n", 1, 6),
            ("$TTL 60\n@ MX ( 10\n  bad..name )\n", 3, 3),
        ] {
            do {
                _ = try ZoneParser(origin: origin).parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.line == line && error.column == column, "\(text): \(error)")
            }
        }
    }
}
