import Foundation
import TLS
import TestSupport
import Testing

/// quercus-tls against OpenSSL (`openssl s_client`/`s_server`) and GnuTLS (`gnutls-cli`/`gnutls-serv`),
/// both ways. Certificates come from `openssl req`/`openssl x509`, so our chain checks also meet
/// certificates we did not make; one test goes the other way and has `openssl verify` check ours.
@Suite("TLS interop with OpenSSL and GnuTLS", .serialized)
struct TLSInteropTests {
    let getRequest = Data("GET / HTTP/1.0\r\n\r\n".utf8)

    // MARK: OpenSSL and GnuTLS clients against our server

    @Test(
        "openssl s_client → quercus-tls server, each suite",
        arguments: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    func opensslClientSuites(_ suite: String) throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let result = try run(
                try Peer.command("openssl", debian: "openssl"),
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-ciphersuites", suite, "-quiet",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("Quercus TLS"), "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains(suite))
        }
    }

    @Test(
        "openssl s_client → quercus-tls server, each group",
        arguments: [("X25519", "X25519"), ("P-256", "P-256"), ("P-384", "P-384")])
    func opensslClientGroups(_ opensslName: String, _ ourName: String) throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let result = try run(
                try Peer.command("openssl", debian: "openssl"),
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-groups", opensslName, "-quiet",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("group \(ourName)"), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test(
        "openssl s_client → quercus-tls server, each key type",
        arguments: [
            ("ec", "ecdsa_secp256r1_sha256"), ("ec384", "ecdsa_secp384r1_sha384"), ("rsa", "rsa_pss_rsae_sha256"),
            ("ed25519", "ed25519"),
        ])
    func opensslClientKeyTypes(_ keyType: String, _ scheme: String) throws {
        try withPKI(serverKey: keyType) { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let result = try run(
                try Peer.command("openssl", debian: "openssl"),
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-verify_return_error", "-quiet",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("signature \(scheme)"), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test("openssl s_client → quercus-tls server: ALPN, resumption and KeyUpdate")
    func opensslClientFeatures() throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let openssl = try Peer.command("openssl", debian: "openssl")
            let alpn = try run(
                openssl,
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile, "-alpn",
                    "h2,http/1.1", "-ign_eof",
                ],
                stdin: getRequest, timeout: 20)
            #expect(alpn.stdout.contains("ALPN protocol: http/1.1"), "\(alpn.stdout)")

            let session = pki.directory.file("session.pem")
            let first = try run(
                openssl,
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-sess_out", session, "-ign_eof",
                ],
                stdin: getRequest, timeout: 20)
            #expect(first.stdout.contains("New, TLSv1.3"))
            let second = try run(
                openssl,
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-sess_in", session, "-ign_eof",
                ],
                stdin: getRequest, timeout: 20)
            #expect(second.stdout.contains("Reused, TLSv1.3"), "\(second.stdout)")
            #expect(second.stdout.contains("resumed"))
        }
        try withPKI { pki in
            // Echo mode: "K" asks s_client to send a KeyUpdate that requests ours; data still flows after it.
            let server = try QuercusServer(pki, extra: [])
            defer { server.stop() }
            let script =
                "(printf 'K\\n'; sleep 0.5; printf 'after key update\\n'; sleep 1) | openssl s_client -connect \(server.address) -servername localhost -CAfile \(pki.caFile) -msg"
            let result = try run("/bin/sh", ["-c", script], timeout: 20)
            #expect(result.stdout.contains("KeyUpdate"), "\(result.stdout)")
            #expect(result.stdout.components(separatedBy: "after key update").count >= 2, "the echo comes back")
        }
    }

    @Test("quercus-tls server: a client that connects and says nothing does not hold up the next one")
    func aSilentClientDoesNotBlockOthers() throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let silent = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(silent) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(server.port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(silent, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            #expect(connected)
            let openssl = try Peer.command("openssl", debian: "openssl")
            let result = try run(
                openssl,
                ["s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile, "-quiet"],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("Quercus TLS"), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test("TLSNIO's async API (TLSAsyncConnection, under quercus-tls client and server) with OpenSSL both ways")
    func asyncAPI() throws {
        try withPKI { pki in
            // Our client: s_server -rev answers each line reversed and closes (close_notify) on CLOSE.
            let reverser = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-rev", "-naccept", "1",
                    ]
                })
            defer { reverser.stop() }
            let reversed = try run(
                try Product.path("quercus-tls"), ["client", "localhost:\(reverser.port)", "--ca", pki.caFile],
                stdin: Data("hello async\nCLOSE\n".utf8), timeout: 20)
            #expect(reversed.status == 0, "\(reversed.stderr)")
            #expect(reversed.stdout.contains("cnysa olleh"), "\(reversed.stdout)")

            // Our server in echo mode: three s_client at once, each gets its own line back; each sends
            // close_notify at the end of its input, and the echo still goes out before ours.
            let server = try QuercusServer(pki, extra: [])
            defer { server.stop() }
            let address = server.address
            let caFile = pki.caFile
            let outputs = NSLock()
            nonisolated(unsafe) var echoed: [Int: String] = [:]
            DispatchQueue.concurrentPerform(iterations: 3) { index in
                let script =
                    "(printf 'line \(index)\\n'; sleep 1) | openssl s_client -connect \(address) -servername localhost -CAfile \(caFile)"
                let result = try? run("/bin/sh", ["-c", script], timeout: 20)
                outputs.withLock { echoed[index] = result?.stdout ?? "timed out" }
            }
            for index in 0..<3 {
                let output = echoed[index] ?? ""
                #expect(output.components(separatedBy: "line \(index)").count >= 2, "\(output)")
            }
        }
    }

    @Test("openssl s_client with and without a client certificate → quercus-tls server --ca")
    func opensslMutualTLS() throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http", "--ca", pki.caFile])
            defer { server.stop() }
            let openssl = try Peer.command("openssl", debian: "openssl")
            let with = try run(
                openssl,
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile, "-cert",
                    pki.clientCert, "-key", pki.clientKey, "-quiet",
                ],
                stdin: getRequest, timeout: 20)
            // OpenSSL sends its chain with the CA, so count is not checked, only that one arrived.
            #expect(with.stdout.contains("Quercus TLS"), "\(with.stdout) \(with.stderr)")
            #expect(!with.stdout.contains("Client certificate: none"))
            let without = try run(
                openssl,
                ["s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile, "-quiet"],
                stdin: getRequest, timeout: 20)
            #expect(!without.stdout.contains("Quercus TLS"))
            #expect(without.stderr.contains("certificate required"), "\(without.stderr)")
        }
    }

    @Test(
        "gnutls-cli → quercus-tls server, each suite and group",
        arguments: [
            ("+AES-128-GCM", "+GROUP-X25519", "TLS_AES_128_GCM_SHA256", "X25519"),
            ("+AES-256-GCM", "+GROUP-SECP256R1", "TLS_AES_256_GCM_SHA384", "P-256"),
            ("+CHACHA20-POLY1305", "+GROUP-SECP384R1", "TLS_CHACHA20_POLY1305_SHA256", "P-384"),
        ])
    func gnutlsClient(_ cipher: String, _ group: String, _ suiteName: String, _ groupName: String) throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let priority = "NONE:+VERS-TLS1.3:\(cipher):+AEAD:+SIGN-ALL:\(group)"
            let result = try run(
                try Peer.command("gnutls-cli", debian: "gnutls-bin"),
                ["--port", String(server.port), "--x509cafile", pki.caFile, "--priority", priority, "localhost"],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("Quercus TLS"), "\(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains(suiteName))
            #expect(result.stdout.contains("group \(groupName)"))
        }
    }

    @Test("gnutls-cli with a client certificate → quercus-tls server --ca")
    func gnutlsMutualTLS() throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http", "--ca", pki.caFile])
            defer { server.stop() }
            let result = try run(
                try Peer.command("gnutls-cli", debian: "gnutls-bin"),
                [
                    "--port", String(server.port), "--x509cafile", pki.caFile, "--x509certfile", pki.clientCert,
                    "--x509keyfile", pki.clientKey, "localhost",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("Quercus TLS"), "\(result.stdout) \(result.stderr)")
            #expect(!result.stdout.contains("Client certificate: none"))
        }
    }

    // MARK: Our client against OpenSSL and GnuTLS servers

    @Test(
        "quercus-tls client → openssl s_server -www, each suite and group",
        arguments: [
            ("aes128", "x25519", "TLS_AES_128_GCM_SHA256"), ("aes256", "p256", "TLS_AES_256_GCM_SHA384"),
            ("chacha20", "p384", "TLS_CHACHA20_POLY1305_SHA256"),
        ])
    func ourClientOpenSSLServer(_ suite: String, _ group: String, _ suiteName: String) throws {
        try withPKI { pki in
            let server = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-www", "-naccept", "1",
                    ]
                })
            defer { server.stop() }
            let result = try run(
                try Product.path("quercus-tls"),
                ["client", "localhost:\(server.port)", "--ca", pki.caFile, "--suites", suite, "--groups", group],
                stdin: getRequest, timeout: 20)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("New, TLSv1.3, Cipher is \(suiteName)"), "\(result.stdout)")
        }
    }

    @Test("quercus-tls client → openssl s_server: resumption, KeyUpdate, client certificate")
    func ourClientOpenSSLFeatures() throws {
        try withPKI { pki in
            let server = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-www", "-naccept", "2",
                        "-Verify", "1", "-CAfile", pki.caFile,
                    ]
                })
            defer { server.stop() }
            let result = try run(
                try Product.path("quercus-tls"),
                [
                    "client", "localhost:\(server.port)", "--ca", pki.caFile, "--cert", pki.clientCert, "--key",
                    pki.clientKey,
                    "--connections", "2", "--key-update",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Reused, TLSv1.3"), "\(result.stdout)")
            #expect(result.stderr.contains("resumed"))
        }
    }

    @Test("quercus-tls client → gnutls-serv --http, in a private network namespace")
    func ourClientGnuTLSServer() throws {
        try withPKI { pki in
            // gnutls-serv cannot be told to listen on loopback only, so it runs in a network
            // namespace of its own (with only `lo`), together with our client.
            let gnutls = try Peer.command("gnutls-serv", debian: "gnutls-bin")
            let unshare = try Peer.command("unshare", debian: "util-linux")
            let ip = try Peer.command("ip", debian: "iproute2")
            let script = """
                \(ip) link set lo up
                \(gnutls) --port 4433 --x509certfile \(pki.serverCert) --x509keyfile \(pki.serverKey) --http >/dev/null 2>&1 &
                server=$!
                for attempt in $(seq 100); do grep -q ':1151 00000000:0000 0A' /proc/net/tcp && break; sleep 0.05; done
                printf 'GET / HTTP/1.0\\r\\n\\r\\n' | \(try Product.path("quercus-tls")) client localhost:4433 --ca \(pki.caFile)
                status=$?
                kill -9 $server
                exit $status
                """
            let result = try run(unshare, ["-n", "/bin/sh", "-c", script], timeout: 30)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("TLS1.3"), "\(result.stdout)")
        }
    }

    @Test("quercus-tls client refuses a server it cannot verify, with a non-zero exit")
    func ourClientRefuses() throws {
        try withPKI { pki in
            let server = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-www", "-naccept", "2",
                    ]
                })
            defer { server.stop() }
            let wrongName = try run(
                try Product.path("quercus-tls"),
                ["client", "127.0.0.1:\(server.port)", "--ca", pki.caFile, "--servername", "other.example"],
                stdin: getRequest, timeout: 20)
            #expect(wrongName.status == 1)
            #expect(wrongName.stderr.contains("not for other.example"), "\(wrongName.stderr)")
            let wrongCA = try run(
                try Product.path("quercus-tls"), ["client", "localhost:\(server.port)", "--ca", pki.clientCert],
                stdin: getRequest, timeout: 20)
            #expect(wrongCA.status == 1)
            #expect(wrongCA.stderr.contains("untrusted certificate"), "\(wrongCA.stderr)")
        }
    }

    // MARK: The post-quantum hybrid against tlslite-ng (with kyber-py's ML-KEM)

    @Test("tlslite-ng client offering only X25519MLKEM768 → quercus-tls server")
    func postQuantumClient() throws {
        try withPKI { pki in
            let python = try Peer.python(module: "tlslite", pypi: "tlslite-ng")
            try Peer.python(module: "kyber_py", pypi: "kyber-py")
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let script = try pki.directory.write("client.py", tlsliteClient)
            let result = try run(python, [script, String(server.port)], timeout: 60)
            #expect(result.stdout.contains("group X25519MLKEM768"), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test("quercus-tls client → tlslite-ng server accepting only X25519MLKEM768")
    func postQuantumServer() throws {
        try withPKI { pki in
            let python = try Peer.python(module: "tlslite", pypi: "tlslite-ng")
            try Peer.python(module: "kyber_py", pypi: "kyber-py")
            let script = try pki.directory.write("server.py", tlsliteServer)
            let server = try PeerServer(python) { port in [script, pki.serverCert, pki.serverKey, String(port)] }
            defer { server.stop() }
            let result = try run(
                try Product.path("quercus-tls"),
                ["client", "localhost:\(server.port)", "--ca", pki.caFile, "--groups", "x25519mlkem768"],
                stdin: getRequest, timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("tlslite-ng answered GET /"), "\(result.stdout)")
            #expect(result.stderr.contains("group X25519MLKEM768"))
        }
    }

    // MARK: TLS 1.2, both ways

    /// Each TLS 1.2 suite with OpenSSL's name, our page's name and the server key type it needs.
    static let tls12Suites: [(String, String, String)] = [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ec"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ec384"),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ed25519"),
        ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "rsa"),
        ("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "rsa"),
        ("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "rsa"),
    ]

    @Test("openssl s_client -tls1_2 → quercus-tls server, each suite", arguments: tls12Suites)
    func opensslClientTLS12(_ cipher: String, _ suiteName: String, _ keyType: String) throws {
        try withPKI(serverKey: keyType) { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let result = try run(
                try Peer.command("openssl", debian: "openssl"),
                [
                    "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile,
                    "-tls1_2", "-cipher", cipher, "-verify_return_error", "-quiet",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("TLS 1.2, \(suiteName)"), "\(result.stdout) \(result.stderr)")
        }
    }

    @Test("openssl s_client -tls1_2 → quercus-tls server: client certificates, ALPN, resumption")
    func opensslClientTLS12Features() throws {
        try withPKI(serverKey: "rsa") { pki in
            let server = try QuercusServer(pki, extra: ["--http", "--ca", pki.caFile])
            defer { server.stop() }
            let openssl = try Peer.command("openssl", debian: "openssl")
            let base = [
                "s_client", "-connect", server.address, "-servername", "localhost", "-CAfile", pki.caFile, "-tls1_2",
            ]
            let session = pki.directory.file("session12.pem")
            let first = try run(
                openssl,
                base + [
                    "-cert", pki.clientCert, "-key", pki.clientKey, "-alpn", "h2,http/1.1", "-sess_out", session,
                    "-ign_eof",
                ],
                stdin: getRequest, timeout: 20)
            #expect(first.stdout.contains("New, TLSv1.2"), "\(first.stdout) \(first.stderr)")
            #expect(first.stdout.contains("ALPN protocol: http/1.1"))
            #expect(first.stdout.contains("TLS 1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))
            #expect(first.stdout.contains("Extended master secret: yes"))
            #expect(!first.stdout.contains("Client certificate: none"))
            let second = try run(
                openssl, base + ["-cert", pki.clientCert, "-key", pki.clientKey, "-sess_in", session, "-ign_eof"],
                stdin: getRequest, timeout: 20)
            #expect(second.stdout.contains("Reused, TLSv1.2"), "\(second.stdout)")
            #expect(second.stdout.contains("resumed"))
            let without = try run(openssl, base + ["-quiet"], stdin: getRequest, timeout: 20)
            #expect(!without.stdout.contains("Quercus TLS"), "\(without.stdout)")
        }
    }

    @Test("quercus-tls client → openssl s_server -tls1_2, each suite", arguments: tls12Suites)
    func ourClientOpenSSLServerTLS12(_ cipher: String, _ suiteName: String, _ keyType: String) throws {
        try withPKI(serverKey: keyType) { pki in
            let server = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-www", "-naccept", "1", "-tls1_2", "-cipher", cipher,
                    ]
                })
            defer { server.stop() }
            // Our client offers TLS 1.3 too; the server's answer of 1.2 carries no downgrade sentinel.
            let result = try run(
                try Product.path("quercus-tls"),
                ["client", "localhost:\(server.port)", "--ca", pki.caFile, "--suites", "aes128,\(cipher)"],
                stdin: getRequest, timeout: 20)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("New, TLSv1.2, Cipher is \(cipher)"), "\(result.stdout)")
            #expect(result.stderr.contains("TLS 1.2, \(suiteName)"))
        }
    }

    @Test("quercus-tls client → openssl s_server -tls1_2: client certificate and resumption")
    func ourClientOpenSSLServerTLS12Features() throws {
        try withPKI { pki in
            let server = try PeerServer(
                try Peer.command("openssl", debian: "openssl"),
                { port in
                    [
                        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", pki.serverCert, "-key", pki.serverKey,
                        "-www", "-naccept", "2", "-tls1_2", "-Verify", "1", "-CAfile", pki.caFile,
                    ]
                })
            defer { server.stop() }
            let result = try run(
                try Product.path("quercus-tls"),
                [
                    "client", "localhost:\(server.port)", "--ca", pki.caFile, "--cert", pki.clientCert, "--key",
                    pki.clientKey, "--versions", "1.2", "--connections", "2",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("New, TLSv1.2"), "\(result.stdout)")
            #expect(result.stdout.contains("Reused, TLSv1.2"), "\(result.stdout)")
            #expect(result.stderr.contains("resumed"))
        }
    }

    @Test("gnutls-cli (TLS 1.2 only) → quercus-tls server, with and without a client certificate")
    func gnutlsClientTLS12() throws {
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http"])
            defer { server.stop() }
            let gnutls = try Peer.command("gnutls-cli", debian: "gnutls-bin")
            let priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
            let result = try run(
                gnutls,
                ["--port", String(server.port), "--x509cafile", pki.caFile, "--priority", priority, "localhost"],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("TLS 1.2, TLS_ECDHE_ECDSA"), "\(result.stdout) \(result.stderr)")
            let chacha = try run(
                gnutls,
                [
                    "--port", String(server.port), "--x509cafile", pki.caFile, "--priority",
                    "NONE:+VERS-TLS1.2:+CHACHA20-POLY1305:+AEAD:+ECDHE-ECDSA:+SIGN-ALL:+GROUP-SECP384R1:+COMP-NULL",
                    "localhost",
                ],
                stdin: getRequest, timeout: 20)
            #expect(
                chacha.stdout.contains("TLS 1.2, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, group P-384"),
                "\(chacha.stdout) \(chacha.stderr)")
        }
        try withPKI { pki in
            let server = try QuercusServer(pki, extra: ["--http", "--ca", pki.caFile])
            defer { server.stop() }
            let result = try run(
                try Peer.command("gnutls-cli", debian: "gnutls-bin"),
                [
                    "--port", String(server.port), "--x509cafile", pki.caFile, "--x509certfile", pki.clientCert,
                    "--x509keyfile", pki.clientKey, "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2", "localhost",
                ],
                stdin: getRequest, timeout: 20)
            #expect(result.stdout.contains("TLS 1.2"), "\(result.stdout) \(result.stderr)")
            #expect(!result.stdout.contains("Client certificate: none"))
        }
    }

    @Test("quercus-tls client → gnutls-serv (TLS 1.2 only), with a client certificate")
    func ourClientGnuTLSServerTLS12() throws {
        try withPKI(serverKey: "rsa") { pki in
            let gnutls = try Peer.command("gnutls-serv", debian: "gnutls-bin")
            let unshare = try Peer.command("unshare", debian: "util-linux")
            let ip = try Peer.command("ip", debian: "iproute2")
            let client = try Product.path("quercus-tls")
            let script = """
                \(ip) link set lo up
                \(gnutls) --port 4433 --x509certfile \(pki.serverCert) --x509keyfile \(pki.serverKey) --x509cafile \(pki.caFile) --require-client-cert --priority NORMAL:-VERS-ALL:+VERS-TLS1.2 --http >/dev/null 2>&1 &
                server=$!
                for attempt in $(seq 100); do grep -q ':1151 00000000:0000 0A' /proc/net/tcp && break; sleep 0.05; done
                printf 'GET / HTTP/1.0\\r\\n\\r\\n' | \(client) client localhost:4433 --ca \(pki.caFile) --cert \(pki.clientCert) --key \(pki.clientKey)
                status=$?
                kill -9 $server
                exit $status
                """
            let result = try run(unshare, ["-n", "/bin/sh", "-c", script], timeout: 30)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("TLS1.2"), "\(result.stdout)")
            #expect(result.stderr.contains("TLS 1.2, TLS_ECDHE_RSA"))
        }
    }

    @Test("openssl verify accepts certificates issued by our CertificateAuthority")
    func ourCertificatesVerify() throws {
        let directory = try TemporaryDirectory("tls-ca")
        defer { directory.remove() }
        let authority = try CertificateAuthority(
            name: "Quercus Interop CA", notBefore: 1_700_000_000, lifetime: 1 << 30)
        let leaf = try authority.issue(names: ["service.test"], notBefore: 1_700_000_000, lifetime: 1 << 29)
        let ca = try directory.write("ca.pem", authority.certificatePEM)
        let chain = try directory.write("leaf.pem", leaf.chainPEM)
        let result = try run(
            try Peer.command("openssl", debian: "openssl"),
            ["verify", "-CAfile", ca, "-purpose", "sslserver", "-verify_hostname", "service.test", chain])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("OK"))
    }
}

// MARK: - Helpers

/// A CA, a server and a client certificate made by OpenSSL in a temporary folder.
struct TestPKI {
    let directory: TemporaryDirectory
    var caFile: String { directory.file("ca.pem") }
    var serverCert: String { directory.file("server.pem") }
    var serverKey: String { directory.file("server.key") }
    var clientCert: String { directory.file("client.pem") }
    var clientKey: String { directory.file("client.key") }
}

func withPKI(serverKey: String = "ec", _ body: (TestPKI) throws -> Void) throws {
    let directory = try TemporaryDirectory("tls-interop")
    defer { directory.remove() }
    let pki = TestPKI(directory: directory)
    let openssl = try Peer.command("openssl", debian: "openssl")
    func keyArguments(_ type: String) -> [String] {
        switch type {
        case "rsa": return ["-newkey", "rsa:2048"]
        case "ed25519": return ["-newkey", "ed25519"]
        case "ec384": return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]
        default: return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        }
    }
    func openSSL(_ arguments: [String]) throws {
        let result = try run(openssl, arguments, currentDirectory: directory.path)
        guard result.status == 0 else {
            throw PeerFailure(description: "openssl \(arguments.first ?? ""): \(result.stderr)")
        }
    }
    try openSSL(
        ["req", "-x509"] + keyArguments("ec") + [
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Interop CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
    for (name, type, usage, san) in [
        ("server", serverKey, "serverAuth", "DNS:localhost"), ("client", "ec", "clientAuth", "DNS:client.test"),
    ] {
        try openSSL(
            ["req"] + keyArguments(type) + [
                "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)",
            ])
        try directory.write(
            "\(name).ext", "subjectAltName=\(san)\nextendedKeyUsage=\(usage)\nkeyUsage=digitalSignature\n")
        try openSSL([
            "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "\(name).pem",
            "-days", "30", "-extfile", "\(name).ext",
        ])
    }
    try body(pki)
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
}

/// A port nobody listens on right now (the kernel picks it).
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard ok else { throw PeerFailure(description: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until the port is in LISTEN state. It reads /proc/net/tcp rather than connecting,
/// because a probe connection would count against `openssl s_server -naccept`.
func waitForListener(port: Int, process: Process) throws {
    let wanted = String(format: ":%04X", port)
    for _ in 0..<400 {
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        let listening = table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(wanted) && fields[3] == "0A"
        }
        if listening { return }
        guard process.isRunning else { throw PeerFailure(description: "the server exited before listening") }
        usleep(25_000)
    }
    throw PeerFailure(description: "nothing listens on port \(port)")
}

/// A server program run in the background for one test, stopped by its PID.
class PeerServer {
    let process = Process()
    let port: Int
    var address: String { "127.0.0.1:\(port)" }

    init(_ path: String, _ arguments: (Int) -> [String]) throws {
        port = try freePort()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments(port)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitForListener(port: port, process: process)
    }

    func stop() {
        // SIGKILL: gnutls-serv does not stop on SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

final class QuercusServer: PeerServer {
    init(_ pki: TestPKI, extra: [String]) throws {
        try super.init(try Product.path("quercus-tls")) { port in
            ["server", "--cert", pki.serverCert, "--key", pki.serverKey, "--listen", "127.0.0.1:\(port)"] + extra
        }
    }
}

/// A tlslite-ng client that offers only the X25519MLKEM768 hybrid and prints the page it gets.
let tlsliteClient = """
    import socket, sys
    from tlslite import TLSConnection, HandshakeSettings
    settings = HandshakeSettings()
    settings.minVersion = (3, 4)
    settings.keyShares = ["x25519mlkem768"]
    settings.eccCurves = ["x25519mlkem768"]
    connection = TLSConnection(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    connection.handshakeClientCert(settings=settings, serverName="localhost")
    connection.write(b"GET / HTTP/1.0\\r\\n\\r\\n")
    data = b""
    while True:
        chunk = connection.read()
        if not chunk:
            break
        data += chunk
    print(data.decode())
    """

/// A tlslite-ng server on 127.0.0.1 that accepts only X25519MLKEM768 and answers one request.
let tlsliteServer = """
    import socket, sys
    from tlslite import TLSConnection, HandshakeSettings, X509CertChain, parsePEMKey
    certificate, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    chain = X509CertChain()
    chain.parsePemList(open(certificate).read())
    private = parsePEMKey(open(key).read(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = (3, 4)
    settings.eccCurves = ["x25519mlkem768"]
    settings.keyShares = ["x25519mlkem768"]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1)
    sock, _ = listener.accept()
    connection = TLSConnection(sock)
    connection.handshakeServer(certChain=chain, privateKey=private, settings=settings)
    request = connection.read()
    connection.write(b"HTTP/1.0 200 OK\\r\\n\\r\\ntlslite-ng answered " + request.split(b"\\r\\n")[0] + b"\\n")
    connection.close()
    """
