import OpenPGP
import Testing

/// Argon2id against RFC 9106's test vector; the RFC 9580 S2K vectors are in RFC9580VectorTests.
@Suite struct Argon2Tests {
    @Test func rfc9106Argon2idVector() {
        let tag = Argon2.hash(
            password: [UInt8](repeating: 1, count: 32), salt: [UInt8](repeating: 2, count: 16),
            secret: [UInt8](repeating: 3, count: 8), associatedData: [UInt8](repeating: 4, count: 12), passes: 3,
            lanes: 4, memory: 32, length: 32)
        #expect(hex(tag) == "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
    }

    @Test func longAndShortTags() {
        // Tags above 64 bytes go through H′'s chain; lengths must come out exact.
        for length in [4, 63, 64, 65, 96, 100, 128] {
            let tag = Argon2.hash(
                password: Array("pw".utf8), salt: [UInt8](repeating: 7, count: 16), passes: 1, lanes: 1, memory: 8,
                length: length)
            #expect(tag.count == length)
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
