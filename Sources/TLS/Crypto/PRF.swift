/// TLS 1.2's pseudorandom function (RFC 5246 section 5) and everything derived with it: the
/// extended master secret (RFC 7627), the key block and Finished.
struct TLS12KeySchedule: Sendable {
    let hash: HashAlgorithm

    /// PRF(secret, label, seed) = P_hash(secret, label + seed), cut to `length` bytes.
    func prf(secret: [UInt8], label: String, seed: [UInt8], length: Int) -> [UInt8] {
        let labelAndSeed = Array(label.utf8) + seed
        var output: [UInt8] = []
        output.reserveCapacity(length + hash.length)
        var a = labelAndSeed
        while output.count < length {
            a = hash.hmac(key: secret, a)
            output += hash.hmac(key: secret, a + labelAndSeed)
        }
        return Array(output.prefix(length))
    }

    /// master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47], where
    /// session_hash is the hash of the handshake up to and including the ClientKeyExchange.
    func extendedMasterSecret(preMasterSecret: [UInt8], sessionHash: [UInt8]) -> [UInt8] {
        prf(secret: preMasterSecret, label: "extended master secret", seed: sessionHash, length: 48)
    }

    /// The record keys of both directions: AEAD suites have no MAC keys; the IV is 4 bytes of salt
    /// for AES-GCM (the other 8 travel in each record) and 12 bytes for ChaCha20-Poly1305 (RFC 7905).
    func keys(masterSecret: [UInt8], clientRandom: [UInt8], serverRandom: [UInt8], suite: CipherSuite) -> TLS12Keys {
        let ivLength = suite.isChaCha20Poly1305 ? 12 : 4
        let block = prf(
            secret: masterSecret, label: "key expansion", seed: serverRandom + clientRandom,
            length: 2 * (suite.keyLength + ivLength))
        var offset = 0
        func take(_ count: Int) -> [UInt8] {
            defer { offset += count }
            return Array(block[offset..<(offset + count)])
        }
        let clientKey = take(suite.keyLength)
        let serverKey = take(suite.keyLength)
        return TLS12Keys(
            suite: suite, clientKey: clientKey, serverKey: serverKey, clientIV: take(ivLength),
            serverIV: take(ivLength))
    }

    /// verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11].
    func finishedVerifyData(masterSecret: [UInt8], client: Bool, handshakeHash: [UInt8]) -> [UInt8] {
        prf(
            secret: masterSecret, label: client ? "client finished" : "server finished", seed: handshakeHash,
            length: 12)
    }
}

/// The key block of a TLS 1.2 connection, split by direction.
struct TLS12Keys: Sendable {
    let suite: CipherSuite
    let clientKey: [UInt8]
    let serverKey: [UInt8]
    let clientIV: [UInt8]
    let serverIV: [UInt8]

    /// The protection for what the client (or the server) writes.
    func protection(client: Bool) -> RecordProtection {
        RecordProtection(tls12: suite, key: client ? clientKey : serverKey, iv: client ? clientIV : serverIV)
    }
}
