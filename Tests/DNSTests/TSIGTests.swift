import DNS
import Testing

@testable import DNSSecurity

@Suite struct TSIGTests {
    /// FIPS 180-4 example vectors for SHA-224, and RFC 4231 test case 2 for HMAC-SHA-224.
    @Test func sha224MatchesTheStandardVectors() {
        #expect(
            TextEncoding.hex(SHA224.hash(Array("abc".utf8)))
                == "23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7")
        #expect(TextEncoding.hex(SHA224.hash([])) == "D14A028C2A3A2BC9476102BB288234C415A2B01F828EA62AC5B3E42F")
        let mac = hmacWithSHA224(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(TextEncoding.hex(mac) == "A30E01098BC6DBBF45690F3A7E9E6D0F8BBEA2A39E6148008FD05E44")
    }

    @Test func keysInBINDAndDigFormats() throws {
        let keys = try TSIGKey.parseBIND(
            """
            # a comment
            key "xfr.example." {
                algorithm hmac-sha512; // the algorithm
                secret "c2VjcmV0";
            };
            key second { algorithm "hmac-sha1"; secret "AAAA"; };
            """)
        #expect(keys.count == 2)
        #expect(
            keys[0]
                == TSIGKey(name: try DomainName("xfr.example."), algorithm: .hmacSHA512, secret: Array("secret".utf8)))
        #expect(keys[1].algorithm == .hmacSHA1)
        #expect(try TSIGKey(dashY: "hmac-sha224:k:c2VjcmV0").algorithm == .hmacSHA224)
        #expect(try TSIGKey(dashY: "k:c2VjcmV0").algorithm == .hmacSHA256)
        #expect(throws: TSIGKeyError.self) { try TSIGKey(dashY: "hmac-md4:k:c2VjcmV0") }
        #expect(throws: TSIGKeyError.self) { try TSIGKey.parseBIND("key k { algorithm hmac-sha256; };") }
    }

    private func signedQuery(key: TSIGKey, time: UInt64) throws -> (bytes: [UInt8], mac: [UInt8]) {
        let query = Message(id: 4242, questions: [Question(name: try DomainName("example.com."), type: .soa)])
        return try TSIG.sign(try query.encode(), key: key, time: time, fudge: 300)
    }

    @Test func fudgeWindowAndWrongKeys() throws {
        let key = TSIGKey(name: try DomainName("k."), algorithm: .hmacSHA256, secret: Array("secret".utf8))
        let signed = try signedQuery(key: key, time: 1_000_000)
        #expect(throws: Never.self) { try TSIG.verify(signed.bytes, keys: [key], now: 1_000_300).get() }
        #expect(throws: TSIGError.badTime(signed: 1_000_000, now: 1_000_301)) {
            try TSIG.verify(signed.bytes, keys: [key], now: 1_000_301).get()
        }
        let other = TSIGKey(name: try DomainName("other."), algorithm: .hmacSHA256, secret: key.secret)
        #expect(throws: TSIGError.badKey) { try TSIG.verify(signed.bytes, keys: [other], now: 1_000_000).get() }
        let wrongSecret = TSIGKey(name: key.name, algorithm: .hmacSHA256, secret: Array("Secret".utf8))
        #expect(throws: TSIGError.badSignature) {
            try TSIG.verify(signed.bytes, keys: [wrongSecret], now: 1_000_000).get()
        }
        #expect(throws: TSIGError.unsigned) {
            try TSIG.verify(try Message(id: 1).encode(), keys: [key], now: 0).get()
        }
    }

    /// RFC 8945 §5.2.2.1: a MAC may be cut to half the hash and at least 10 bytes, no further.
    @Test(arguments: [(32, true), (16, true), (15, false), (10, false), (0, false)])
    func truncatedMACs(length: Int, accepted: Bool) throws {
        let key = TSIGKey(name: try DomainName("k."), algorithm: .hmacSHA256, secret: Array("secret".utf8))
        let signed = try signedQuery(key: key, time: 5000)
        var message = try Message.decode(signed.bytes)
        guard case .tsig(var record) = message.tsig?.data else {
            Issue.record("no TSIG")
            return
        }
        record.mac = Array(record.mac.prefix(length))
        message.tsig?.data = .tsig(record)
        let result = TSIG.verify(try message.encode(), keys: [key], now: 5000)
        if accepted {
            #expect(throws: Never.self) { try result.get() }
        } else {
            #expect(throws: TSIGError.self) { try result.get() }
        }
    }

    @Test func constantTimeComparison() {
        #expect(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
