import Testing
import XML

@Suite struct NamespaceTests {
    func parse(_ text: String) throws -> XMLElement { try XMLDocument.parse(Array(text.utf8)) }
    let a = "urn:a"
    let b = "urn:b"

    @Test func prefixesAreScopedToTheirElement() throws {
        let root = try parse(
            #"<p:r xmlns:p="urn:a"><p:x xmlns:p="urn:b"><p:y/></p:x><p:z/></p:r>"#)
        #expect(root.name == XMLName(a, "r"))
        #expect(root.elements.map(\.name) == [XMLName(b, "x"), XMLName(a, "z")])
        #expect(root.first(XMLName(b, "x"))?.elements.map(\.name) == [XMLName(b, "y")])
    }

    @Test func aPrefixIsOutOfScopeAfterItsElement() {
        #expect(throws: XMLError(.undeclaredPrefix("q"), offset: 24, line: 1)) {
            try parse(#"<r><x xmlns:q="urn:a"/><q:y/></r>"#)
        }
    }

    @Test func defaultNamespaceAndItsUndeclaration() throws {
        let root = try parse(#"<r xmlns="urn:a"><x xmlns=""><y/></x><z/></r>"#)
        #expect(root.name == XMLName(a, "r"))
        #expect(root.elements.map(\.name) == [XMLName("", "x"), XMLName(a, "z")])
        #expect(root.first(XMLName("", "x"))?.elements.map(\.name) == [XMLName("", "y")])
    }

    @Test func unprefixedAttributesHaveNoNamespace() throws {
        let root = try parse(#"<r xmlns="urn:a" xmlns:p="urn:b" n="1" p:n="2"/>"#)
        #expect(root.attributes.count == 2)  // declarations are not attributes
        #expect(root.attribute(XMLName("", "n")) == "1")
        #expect(root.attribute(XMLName(b, "n")) == "2")
        #expect(root.attribute(XMLName(a, "n")) == nil)
    }

    @Test func aDeclarationAppliesToTheElementThatCarriesIt() throws {
        let root = try parse(#"<p:r p:n="v" xmlns:p="urn:a"/>"#)
        #expect(root.name == XMLName(a, "r"))
        #expect(root.attribute(XMLName(a, "n")) == "v")
    }

    @Test func xmlPrefixIsPredeclared() throws {
        let root = try parse(#"<r xml:lang="en" xml:space="preserve"/>"#)
        #expect(root.attribute(XMLName("http://www.w3.org/XML/1998/namespace", "lang")) == "en")
        #expect(try parse(#"<r xmlns:xml="http://www.w3.org/XML/1998/namespace"/>"#).name == XMLName("", "r"))
    }

    @Test func reservedAndInvalidBindingsAreRefused() {
        for body in [
            #"<r xmlns:xml="urn:a"/>"#, #"<r xmlns:p="http://www.w3.org/XML/1998/namespace"/>"#,
            #"<r xmlns:xmlns="urn:a"/>"#, #"<r xmlns="http://www.w3.org/2000/xmlns/"/>"#, #"<r xmlns:p=""/>"#,
            #"<xmlns:r/>"#,
        ] {
            #expect(throws: XMLError.self, "\(body)") { try parse(body) }
        }
    }

    @Test func undeclaredPrefixes() {
        #expect(throws: XMLError(.undeclaredPrefix("D"), offset: 1, line: 1)) { try parse("<D:propfind/>") }
        #expect(throws: XMLError(.undeclaredPrefix("q"), offset: 15, line: 1)) {
            try parse(#"<r xmlns:p="x" q:a="1"/>"#)
        }
    }

    @Test func sameExpandedAttributeTwiceIsRefused() {
        #expect(throws: XMLError(.malformed("duplicate attribute {urn:a}n"), offset: 43, line: 1)) {
            try parse(#"<r xmlns:p="urn:a" xmlns:q="urn:a" p:n="1" q:n="2"/>"#)
        }
        #expect(throws: XMLError(.malformed("duplicate attribute n"), offset: 9, line: 1)) {
            try parse(#"<r n="1" n="2"/>"#)
        }
    }

    @Test func malformedQualifiedNames() {
        for body in ["<a:b:c/>", "<:a/>", "<a:/>", "<1a/>", "<r 1a='x'/>", "<r a:='x'/>"] {
            #expect(throws: XMLError.self, "\(body)") { try parse(body) }
        }
    }

    @Test func nonASCIINames() throws {
        let root = try parse(#"<über xmlns="urn:ä" größe="1"><日本/></über>"#)
        #expect(root.name == XMLName("urn:ä", "über"))
        #expect(root.attribute(XMLName("", "größe")) == "1")
        #expect(root.elements.map(\.name) == [XMLName("urn:ä", "日本")])
    }
}
