/// DNS cookies on the server side (RFC 7873), with the interoperable server cookie of RFC 9018,
/// so that servers of different vendors behind one address, sharing the secret, accept each
/// other's cookies.
public struct CookieSecret: Sendable {
    public let bytes: [UInt8]

    /// 16 bytes, as RFC 9018 §4.3 wants for SipHash-2-4.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// RFC 9018 §4.3: a server cookie is valid for an hour and may be from at most five minutes
    /// in the future; one older than half an hour is replaced in the response.
    static let lifetime: UInt32 = 3600
    static let allowedSkew: UInt32 = 300
    static let refreshAge: UInt32 = 1800

    /// The 16-byte version 1 server cookie: version, three reserved zero bytes, the timestamp,
    /// and SipHash-2-4 over client cookie, those eight bytes and the client's address.
    func serverCookie(client: [UInt8], clientAddress: [UInt8], timestamp: UInt32) -> [UInt8] {
        let header: [UInt8] =
            [1, 0, 0, 0] + (0..<4).map { UInt8(truncatingIfNeeded: timestamp >> UInt32(24 - $0 * 8)) }
        return header + SipHash24.hash(client + header + clientAddress, key: bytes)
    }

    /// Whether `server` is a cookie this secret made for this client cookie and address, still
    /// within its lifetime at `now`; returns its timestamp if so.
    func validTimestamp(server: [UInt8], client: [UInt8], clientAddress: [UInt8], now: UInt32) -> UInt32? {
        guard server.count == 16, server[0] == 1, server[1] == 0, server[2] == 0, server[3] == 0 else { return nil }
        let timestamp = server[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        // Serial-number arithmetic (RFC 1982), so the check survives the 2106 wrap.
        let age = now &- timestamp
        let ahead = timestamp &- now
        guard age <= Self.lifetime || ahead <= Self.allowedSkew else { return nil }
        let expected = serverCookie(client: client, clientAddress: clientAddress, timestamp: timestamp)
        var difference: UInt8 = 0
        for (left, right) in zip(expected, server) { difference |= left ^ right }
        return difference == 0 ? timestamp : nil
    }

    /// The COOKIE option for a response: the client's cookie and a server cookie, the one it sent
    /// if still fresh, a new one otherwise (an invalid one is treated as absent, RFC 7873 §5.2.3).
    func responseOption(client: [UInt8], server: [UInt8], clientAddress: [UInt8], now: UInt32) -> (
        client: [UInt8], server: [UInt8]
    ) {
        if let timestamp = validTimestamp(server: server, client: client, clientAddress: clientAddress, now: now),
            now &- timestamp < Self.refreshAge || timestamp &- now <= Self.allowedSkew
        {
            return (client, server)
        }
        return (client, serverCookie(client: client, clientAddress: clientAddress, timestamp: now))
    }
}
