import Testing
import Wire

@testable import DNS

@Suite struct NameTests {
    @Test func labelAndNameLimits() throws {
        let longest = String(repeating: "a", count: 63)
        #expect(try DomainName("\(longest).example.").labels.first?.count == 63)
        #expect(throws: NameError.labelTooLong(64)) { try DomainName(String(repeating: "a", count: 64) + ".") }
        // 4 labels of 63 bytes is 4 * 64 + 1 = 257 bytes: too long. 3 of 63 and one of 61 is exactly 255.
        let label63 = String(repeating: "b", count: 63)
        #expect(throws: NameError.nameTooLong(257)) {
            try DomainName([label63, label63, label63, label63, ""].joined(separator: "."))
        }
        let exact = [label63, label63, label63, String(repeating: "c", count: 61), ""].joined(separator: ".")
        #expect(try DomainName(exact).wire.count == 255)
        #expect(throws: NameError.emptyLabel) { try DomainName("a..b.") }
    }

    @Test func caseInsensitiveEqualityPreservesCase() throws {
        let upper = try DomainName("WWW.Example.COM.")
        let lower = try DomainName("www.example.com.")
        #expect(upper == lower)
        #expect(upper.hashValue == lower.hashValue)
        #expect(upper.description == "WWW.Example.COM.")
        #expect(Set([upper, lower]).count == 1)
    }

    @Test func relativeNamesNeedAnOrigin() throws {
        let origin = try DomainName("example.com.")
        #expect(try DomainName("www", origin: origin).description == "www.example.com.")
        #expect(try DomainName("@", origin: origin) == origin)
        #expect(try DomainName("www.", origin: origin).description == "www.")
        #expect(throws: NameError.relativeWithoutOrigin("www")) { try DomainName("www") }
        #expect(try DomainName("www.example.com.").relativeText(to: origin) == "www")
    }

    @Test func presentationEscapes() throws {
        let dotted = try DomainName("a\\.b.example.")
        #expect(dotted.labelCount == 2)
        #expect(Array(dotted.labels[0]) == Array("a.b".utf8))
        #expect(dotted.description == "a\\.b.example.")
        let decimal = try DomainName("\\000\\255\\032x.")
        #expect(Array(decimal.labels[0]) == [0, 255, 32, UInt8(ascii: "x")])
        #expect(decimal.description == "\\000\\255\\032x.")
        #expect(throws: NameError.badEscape("\\256.")) { try DomainName("\\256.") }
        #expect(throws: NameError.badEscape("a\\")) { try DomainName("a\\") }
    }

    /// The ordering example of RFC 4034 §6.1, in its order.
    @Test func canonicalOrderingFollowsRFC4034() throws {
        let ordered = try [
            "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.",
            "\\001.z.example.", "*.z.example.", "\\200.z.example.",
        ].map { try DomainName($0) }
        #expect(ordered.shuffled().sorted() == ordered)
        for (left, right) in zip(ordered, ordered.dropFirst()) {
            #expect(left < right)
            #expect(!(right < left))
        }
    }

    @Test func subdomainsAndParents() throws {
        let name = try DomainName("a.b.example.")
        #expect(name.isSubdomain(of: try DomainName("EXAMPLE.")))
        #expect(name.isSubdomain(of: name))
        #expect(!name.isSubdomain(of: try DomainName("b.example.com.")))
        // Suffix on a label boundary only: "xample." is not a parent of "example.".
        #expect(!(try DomainName("example.")).isSubdomain(of: try DomainName("xample.")))
        #expect(name.parent?.description == "b.example.")
        #expect(DomainName.root.parent == nil)
    }
}
