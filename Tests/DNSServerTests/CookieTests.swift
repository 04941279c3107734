import DNS
import Testing

@testable import DNSServer

@Suite struct CookieTests {
    private func hex(_ text: String) -> [UInt8] { TextEncoding.decodeHex(text) ?? [] }

    @Test func sipHashMatchesTheReferenceVectors() {
        // The SipHash paper's test vectors: key 00 01 … 0f, messages 00 01 … of growing length.
        let key = Array(UInt8(0)...15)
        #expect(SipHash24.hash([], key: key) == hex("310e0edd47db6f72"))
        #expect(SipHash24.hash([0], key: key) == hex("fd67dc93c539f874"))
        #expect(SipHash24.hash(Array(0...14), key: key) == hex("e545be4961ca29a1"))
    }

    @Test func serverCookiesMatchRFC9018AppendixA() throws {
        // A.1: a first query from 198.51.100.100 with client cookie 2464c4abcf10c957.
        let secret = try #require(CookieSecret(hex("e5e973e5a6b2a43f48e7dc849e37bfcf")))
        let cookie = secret.serverCookie(
            client: hex("2464c4abcf10c957"), clientAddress: [198, 51, 100, 100], timestamp: 1_559_731_985)
        #expect(cookie == hex("010000005cf79f111f8130c3eee29480"))
    }

    @Test func aCookieIsAcceptedWithinItsLifetimeAndRenewedAfterHalfAnHour() throws {
        let secret = try #require(CookieSecret(Array(repeating: 7, count: 16)))
        let client = hex("0102030405060708")
        let address: [UInt8] = [127, 0, 0, 1]
        let issued = secret.serverCookie(client: client, clientAddress: address, timestamp: 1_000_000)
        #expect(
            secret.validTimestamp(server: issued, client: client, clientAddress: address, now: 1_000_100) == 1_000_000)
        // Kept while young, replaced when older than half an hour, refused after an hour.
        #expect(
            secret.responseOption(client: client, server: issued, clientAddress: address, now: 1_000_100).server
                == issued)
        let renewed = secret.responseOption(client: client, server: issued, clientAddress: address, now: 1_002_000)
            .server
        #expect(renewed != issued)
        #expect(
            secret.validTimestamp(server: renewed, client: client, clientAddress: address, now: 1_002_000) == 1_002_000)
        #expect(secret.validTimestamp(server: issued, client: client, clientAddress: address, now: 1_003_601) == nil)
        // Five minutes from the future is tolerated, more is not.
        #expect(
            secret.validTimestamp(server: issued, client: client, clientAddress: address, now: 999_700) == 1_000_000)
        #expect(secret.validTimestamp(server: issued, client: client, clientAddress: address, now: 999_600) == nil)
        // Another address, another client cookie, or one flipped bit: not ours.
        #expect(
            secret.validTimestamp(server: issued, client: client, clientAddress: [127, 0, 0, 2], now: 1_000_100) == nil)
        #expect(
            secret.validTimestamp(
                server: issued, client: hex("0102030405060709"), clientAddress: address, now: 1_000_100) == nil)
        var tampered = issued
        tampered[15] ^= 1
        #expect(secret.validTimestamp(server: tampered, client: client, clientAddress: address, now: 1_000_100) == nil)
    }

    @Test func theResponderAnswersAClientCookieWithAServerCookie() throws {
        let origin = try DomainName("example.com.")
        let zone = try Zone(
            origin: origin, records: try ZoneParser(origin: origin).parse("@ 60 IN SOA ns h 1 1 1 1 1\n"))
        let secret = try #require(CookieSecret(Array(repeating: 9, count: 16)))
        let responder = Responder(authority: Authority(zones: [zone]), cookieSecret: secret)
        let client = hex("a1a2a3a4a5a6a7a8")
        func ask(_ server: [UInt8]) throws -> [UInt8]? {
            let query = Message(
                id: 5, questions: [Question(name: origin, type: .soa)],
                edns: EDNS(options: [.cookie(client: client, server: server)]))
            let reply = try #require(
                responder.respond(to: try query.encode(), over: .udp, from: [10, 0, 0, 1], at: 5_000))
            for case .cookie(let echoed, let server) in try Message.decode(reply).edns?.options ?? [] {
                #expect(echoed == client)
                return server
            }
            return nil
        }
        let first = try #require(try ask([]))
        #expect(first == secret.serverCookie(client: client, clientAddress: [10, 0, 0, 1], timestamp: 5_000))
        #expect(try ask(first) == first)
        // A server cookie we did not make is replaced, not trusted.
        #expect(try ask(Array(repeating: 0, count: 16)) == first)
        // Without cookies configured, no COOKIE option comes back.
        let plain = Responder(authority: Authority(zones: [zone]))
        let query = Message(
            id: 6, questions: [Question(name: origin, type: .soa)],
            edns: EDNS(options: [.cookie(client: client, server: [])]))
        let reply = try #require(plain.respond(to: try query.encode(), over: .udp))
        #expect(try Message.decode(reply).edns?.options.isEmpty == true)
    }
}
