import Foundation
import TLS
import TestSupport
import Testing

/// quercus-pinata attacked and used by real peers: openssl s_client and s_server, Python's ssl
/// module, curl, and our own quercus-tls client. The secret must come out for a certificate the
/// CA issued and for nothing else, and the process must stay up through all of it.
@Suite(.serialized) struct PinataInteropTests {
    @Test func onlyACertificateFromTheCAGetsTheSecretAtTheTLSServerEndpoint() throws {
        try withPKI { pki in
            let pinata = try PinataProcess(testCA: pki.directory.path)
            defer { pinata.stop() }
            let openssl = try Peer.command("openssl", debian: "openssl")
            let attacks = try AttackCertificates(pki)
            func tryServer(_ extra: [String]) throws -> ProcessResult {
                try run(
                    openssl,
                    ["s_client", "-connect", pinata.address(.tlsServer), "-CAfile", pki.caFile, "-ign_eof"] + extra,
                    stdin: Data(), timeout: 20)
            }

            // A properly issued client certificate, through OpenSSL and through our own client.
            let good = try tryServer(["-cert", pki.clientCert, "-key", pki.clientKey])
            #expect(good.stdout.contains(pinata.secret), "\(good.stdout)\n\(good.stderr)")
            let ours = try run(
                try Product.path("quercus-tls"),
                [
                    "client", pinata.address(.tlsServer), "--ca", pki.caFile, "--servername", "localhost", "--cert",
                    pki.clientCert, "--key", pki.clientKey,
                ], stdin: Data(), timeout: 20)
            #expect(ours.stdout.contains(pinata.secret), "\(ours.stdout)\n\(ours.stderr)")

            // Every attack fails, and says why in the alert.
            let cases: [(String, [String], String)] = [
                ("no certificate", [], "certificate required"),
                ("self-signed", ["-cert", attacks.selfSigned.cert, "-key", attacks.selfSigned.key], "unknown ca"),
                ("another CA", ["-cert", attacks.otherCA.cert, "-key", attacks.otherCA.key], "unknown ca"),
                ("expired", ["-cert", attacks.expired.cert, "-key", attacks.expired.key], "certificate expired"),
                (
                    "server certificate as client", ["-cert", pki.serverCert, "-key", pki.serverKey],
                    "certificate unknown"
                ),
                (
                    "intermediate signed by a forged CA of the same name",
                    [
                        "-cert", attacks.forgedChain.cert, "-key", attacks.forgedChain.key, "-cert_chain",
                        attacks.forgedIntermediate,
                    ],
                    "unknown ca"
                ),
                (
                    "issued by a leaf that is not a CA",
                    ["-cert", attacks.leafIssued.cert, "-key", attacks.leafIssued.key, "-cert_chain", pki.clientCert],
                    "unknown ca"
                ),
            ]
            for (name, arguments, alert) in cases {
                let result = try tryServer(arguments)
                #expect(!result.stdout.contains(pinata.secret), "\(name): the secret came out")
                #expect(result.stderr.contains(alert), "\(name): \(result.stderr)")
            }
            // Bytes that are not TLS, and a handshake cut short, get nothing either.
            #expect(
                !(try rawExchange(pinata.port(.tlsServer), send: Array("GET / HTTP/1.0\r\n\r\n".utf8))).contains(
                    pinata.secretBytes))
            let hello = try clientHelloPrefix(openssl: openssl, pki: pki)
            #expect(
                !(try rawExchange(pinata.port(.tlsServer), send: Array(hello.prefix(60)))).contains(pinata.secretBytes))

            let metrics = try pinata.metrics()
            let expected = [
                ("secret sent", 2), ("rejected: certificate_required", 1), ("rejected: unknown_ca", 4),
                ("rejected: certificate_expired", 1), ("rejected: certificate_unknown", 1),
                ("rejected: decode_error", 1),
                ("closed during handshake", 1),
            ]
            for (outcome, count) in expected {
                #expect(
                    metrics.contains("{endpoint=\"tls-server\",outcome=\"\(outcome)\"} \(count)\n"),
                    "\(outcome) × \(count) in\n\(metrics)")
            }
            #expect(processIsAlive(pinata.process.pid))
            #expect(!pinata.process.output.contains(pinata.secret))
            #expect(!pinata.process.output.contains("PRIVATE KEY"))
        }
    }

    @Test func connectBackGivesTheSecretOnlyToAServerCertifiedByTheCA() throws {
        try withPKI { pki in
            let pinata = try PinataProcess(testCA: pki.directory.path)
            defer { pinata.stop() }
            let openssl = try Peer.command("openssl", debian: "openssl")
            let attacks = try AttackCertificates(pki)
            for (cert, key, getsSecret) in [
                (pki.serverCert, pki.serverKey, true), (attacks.otherCAServer.cert, attacks.otherCAServer.key, false),
            ] {
                let server = try BackgroundProcess(
                    openssl,
                    [
                        "s_server", "-accept", "127.0.0.1:\(pinata.connectBackPort)", "-naccept", "1", "-cert", cert,
                        "-key", key,
                    ], keepsInputOpen: true)
                defer { server.stop() }
                try server.waitForOutput(containing: "ACCEPT")
                _ = try rawExchange(pinata.port(.connectBack), send: [])
                if getsSecret {
                    #expect(eventually(timeout: 15) { server.output.contains(pinata.secret) }, "\(server.output)")
                } else {
                    #expect(
                        eventually(timeout: 15) { (try? pinata.metrics())?.contains("rejected: unknown_ca") == true })
                    #expect(!server.output.contains(pinata.secret))
                }
            }
            let metrics = try pinata.metrics()
            #expect(metrics.contains("{endpoint=\"connect-back\",outcome=\"secret sent\"} 1\n"), "\(metrics)")
            #expect(metrics.contains("{endpoint=\"connect-back\",outcome=\"rejected: unknown_ca\"} 1\n"), "\(metrics)")
            // Nobody listening on the caller's side costs one failed attempt, not the process.
            _ = try rawExchange(pinata.port(.connectBack), send: [])
            #expect(eventually(timeout: 15) { (try? pinata.metrics())?.contains("could not connect back") == true })
            #expect(processIsAlive(pinata.process.pid))
        }
    }

    @Test func theTLSClientEndpointSendsTheSecretOnlyToACertifiedServer() throws {
        try withPKI { pki in
            let pinata = try PinataProcess(testCA: pki.directory.path)
            defer { pinata.stop() }
            let python = try Peer.command("python3", debian: "python3")
            let attacks = try AttackCertificates(pki)
            // Python's ssl module (OpenSSL) plays the TLS server on the connection it opened.
            let script = """
                import socket, ssl, sys
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
                data = b""
                try:
                    tls = context.wrap_socket(raw, server_side=True)
                    while chunk := tls.recv(4096):
                        data += chunk
                except (ssl.SSLError, OSError) as error:
                    print("failed:", error)
                print("received:", data.decode(errors="replace"))
                """
            let good = try run(
                python, ["-c", script, String(pinata.port(.tlsClient)), pki.serverCert, pki.serverKey], timeout: 30)
            #expect(good.stdout.contains("received: \(pinata.secret)"), "\(good.stdout)\n\(good.stderr)")
            let bad = try run(
                python,
                ["-c", script, String(pinata.port(.tlsClient)), attacks.otherCAServer.cert, attacks.otherCAServer.key],
                timeout: 30)
            #expect(!bad.stdout.contains(pinata.secret))
            #expect(bad.stdout.contains("failed:"), "\(bad.stdout)\n\(bad.stderr)")
            let metrics = try pinata.metrics()
            #expect(metrics.contains("{endpoint=\"tls-client\",outcome=\"secret sent\"} 1\n"), "\(metrics)")
            #expect(metrics.contains("{endpoint=\"tls-client\",outcome=\"rejected: unknown_ca\"} 1\n"), "\(metrics)")
        }
    }

    @Test func thePagesShowTheRulesTheCAAndTheAttemptsOverHTTPAndHTTPS() throws {
        try withPKI { pki in
            let pinata = try PinataProcess(testCA: pki.directory.path)
            defer { pinata.stop() }
            let curl = try Peer.command("curl", debian: "curl")
            let page = try run(curl, ["-sS", "http://\(pinata.address(.http))/"])
            #expect(page.stdout.contains("Quercus Piñata"))
            #expect(page.stdout.contains("TEST CA: THERE IS NO BOUNTY HERE"))
            let served = try run(curl, ["-sS", "http://\(pinata.address(.http))/ca.pem"]).stdout
            let original = try String(contentsOfFile: pki.caFile, encoding: .utf8)
            #expect(served.filter { !$0.isWhitespace } == original.filter { !$0.isWhitespace })
            // HTTPS with the web certificate the CA issued, verified by curl (OpenSSL) against the CA.
            let secure = try run(
                curl, ["-sS", "--cacert", pki.caFile, "https://localhost:\(pinata.port(.https))/"], timeout: 20)
            #expect(secure.status == 0, "\(secure.stderr)")
            #expect(secure.stdout.contains("Quercus Piñata"))
            #expect(!secure.stdout.contains("PRIVATE KEY"))
        }
    }

    @Test(
        "a test CA of each key kind and format the flag accepts",
        arguments: [
            ("ed25519 PKCS#8", ["-newkey", "ed25519"], false, false),
            ("P-256 SEC 1", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], true, false),
            ("RSA PKCS#8 with --rsa leaves", ["-newkey", "rsa:2048"], false, true),
        ])
    func testCAKinds(_ name: String, _ keyArguments: [String], _ sec1: Bool, _ rsaLeaves: Bool) throws {
        let directory = try TemporaryDirectory("pinata-ca")
        defer { directory.remove() }
        let openssl = try Peer.command("openssl", debian: "openssl")
        func openSSL(_ arguments: [String]) throws {
            let result = try run(openssl, arguments, currentDirectory: directory.path)
            guard result.status == 0 else { throw PeerFailure(description: "openssl: \(result.stderr)") }
        }
        try openSSL(
            ["req", "-x509"] + keyArguments + [
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Kind CA", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
            ])
        if sec1 { try openSSL(["ec", "-in", "ca.key", "-out", "ca.key"]) }
        let caKey = try String(contentsOfFile: directory.file("ca.key"), encoding: .utf8)
        #expect(caKey.hasPrefix(sec1 ? "-----BEGIN EC PRIVATE KEY-----" : "-----BEGIN PRIVATE KEY-----"))
        try openSSL(
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key",
                "-out", "client.csr", "-subj", "/CN=client",
            ])
        _ = try directory.write("client.ext", "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n")
        try openSSL([
            "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "client.pem", "-days", "30", "-extfile", "client.ext",
        ])
        let pinata = try PinataProcess(testCA: directory.path, extra: rsaLeaves ? ["--rsa"] : [])
        defer { pinata.stop() }
        let good = try run(
            openssl,
            [
                "s_client", "-connect", pinata.address(.tlsServer), "-CAfile", directory.file("ca.pem"), "-ign_eof",
                "-cert", directory.file("client.pem"), "-key", directory.file("client.key"),
            ], stdin: Data(), timeout: 30)
        #expect(good.stdout.contains(pinata.secret), "\(name): \(good.stderr)")
        #expect(good.stdout.contains("Verify return code: 0 (ok)"), "\(name)")
        if rsaLeaves { #expect(good.stdout.contains("Server public key is 4096 bit"), "\(good.stdout)") }
    }

    @Test func withoutATestCAEachStartMakesANewCAAndWritesNoKey() throws {
        let directory = try TemporaryDirectory("pinata")
        defer { directory.remove() }
        let first = try PinataProcess(testCA: nil, in: directory)
        let firstCA = try first.caPEM()
        let page = try run(try Peer.command("curl", debian: "curl"), ["-sS", "http://\(first.address(.http))/"])
        first.stop()
        let second = try PinataProcess(testCA: nil, in: directory)
        defer { second.stop() }
        #expect(try second.caPEM() != firstCA)
        #expect(!page.stdout.contains("TEST CA"))
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(written == ["secret"], "files written: \(written)")
        #expect(!first.process.output.contains("PRIVATE KEY") && !first.process.output.contains(first.secret))
    }
}

/// A running quercus-pinata with every endpoint on a free loopback port and a random secret.
final class PinataProcess {
    enum Endpoint: String, CaseIterable {
        case http, https
        case tlsServer = "tls-server"
        case connectBack = "tls-connect-back"
        case tlsClient = "tls-client"
    }

    let process: BackgroundProcess
    let secret = "secret-" + UUID().uuidString
    var secretBytes: [UInt8] { Array(secret.utf8) }
    let ports: [Endpoint: Int]
    let connectBackPort: Int
    private let ownDirectory: TemporaryDirectory?

    init(testCA: String?, in directory: TemporaryDirectory? = nil, extra: [String] = []) throws {
        let folder = try directory ?? TemporaryDirectory("pinata")
        ownDirectory = directory == nil ? folder : nil
        let secretFile = try folder.write("secret", secret)
        var ports: [Endpoint: Int] = [:]
        var arguments = ["--secret-file", secretFile, "--handshake-timeout", "3"]
        for endpoint in Endpoint.allCases {
            ports[endpoint] = try freePort()
            arguments += ["--\(endpoint.rawValue)", "127.0.0.1:\(ports[endpoint] ?? 0)"]
        }
        connectBackPort = try freePort()
        arguments += ["--connect-back-port", String(connectBackPort)]
        if let testCA { arguments += ["--test-ca", testCA] }
        arguments += extra
        self.ports = ports
        process = try BackgroundProcess(try Product.path("quercus-pinata"), arguments, currentDirectory: folder.path)
        try process.waitForOutput(containing: "listening:", timeout: 120)
    }

    func port(_ endpoint: Endpoint) -> Int { ports[endpoint] ?? 0 }
    func address(_ endpoint: Endpoint) -> String { "127.0.0.1:\(port(endpoint))" }

    func metrics() throws -> String {
        try run(try Peer.command("curl", debian: "curl"), ["-sS", "http://\(address(.http))/metrics"]).stdout
    }

    func caPEM() throws -> String {
        try run(try Peer.command("curl", debian: "curl"), ["-sS", "http://\(address(.http))/ca.pem"]).stdout
    }

    func stop() {
        process.stop()
        ownDirectory?.remove()
    }
}

/// Client certificates no Piñata should accept, made beside a `TestPKI` (whose CA is the test CA).
struct AttackCertificates {
    struct Pair {
        let cert: String
        let key: String
    }

    let selfSigned: Pair
    let otherCA: Pair
    /// A server certificate from another CA, for the endpoints where the Piñata is the client.
    let otherCAServer: Pair
    let expired: Pair
    /// A leaf under an intermediate that claims the test CA as issuer but was signed by another key.
    let forgedChain: Pair
    let forgedIntermediate: String
    /// A leaf whose issuer is the test CA's client certificate, which is not a CA.
    let leafIssued: Pair

    init(_ pki: TestPKI) throws {
        let directory = pki.directory
        let openssl = try Peer.command("openssl", debian: "openssl")
        func openSSL(_ arguments: [String]) throws {
            let result = try run(openssl, arguments, currentDirectory: directory.path)
            guard result.status == 0 else { throw PeerFailure(description: "openssl: \(result.stderr)") }
        }
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        func pair(_ name: String) -> Pair {
            Pair(cert: directory.file("\(name).pem"), key: directory.file("\(name).key"))
        }
        func selfSignedCA(_ name: String, subject: String) throws {
            try openSSL(
                ["req", "-x509"] + ecKey + [
                    "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "30", "-subj", subject, "-addext",
                    "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                ])
        }
        func issue(_ name: String, by issuer: String, extensions: String) throws {
            try openSSL(["req"] + ecKey + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            _ = try directory.write("\(name).ext", extensions)
            try openSSL([
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(issuer).pem", "-CAkey", "\(issuer).key",
                "-CAcreateserial", "-out", "\(name).pem", "-days", "30", "-extfile", "\(name).ext",
            ])
        }
        let clientExtensions = "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n"
        try openSSL(
            ["req", "-x509"] + ecKey + [
                "-keyout", "self.key", "-out", "self.pem", "-days", "30", "-subj", "/CN=self", "-addext",
                "extendedKeyUsage=clientAuth",
            ])
        selfSigned = pair("self")
        try selfSignedCA("other-ca", subject: "/CN=Other CA")
        try issue("other", by: "other-ca", extensions: clientExtensions)
        otherCA = pair("other")
        try issue(
            "other-server", by: "other-ca",
            extensions: "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\nsubjectAltName=DNS:localhost\n")
        otherCAServer = pair("other-server")
        // Same subject as the test CA, different key.
        try selfSignedCA("forged-ca", subject: "/CN=Interop CA")
        try issue(
            "forged-intermediate", by: "forged-ca",
            extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
        try issue("forged-leaf", by: "forged-intermediate", extensions: clientExtensions)
        forgedChain = pair("forged-leaf")
        forgedIntermediate = directory.file("forged-intermediate.pem")
        try issue("leaf-issued", by: "client", extensions: clientExtensions)
        leafIssued = pair("leaf-issued")
        // OpenSSL 3.0 cannot back-date a certificate, so the expired one comes from our CA code
        // holding the test CA's key.
        let now = Int64(Date().timeIntervalSince1970)
        let authority = try CertificateAuthority(
            certificatePEM: try String(contentsOfFile: pki.caFile, encoding: .utf8),
            keyPEM: try String(contentsOfFile: directory.file("ca.key"), encoding: .utf8))
        let stale = try authority.issue(
            names: ["expired.test"], usage: .client, notBefore: now - 3 * 86_400, lifetime: 86_400)
        expired = Pair(
            cert: try directory.write("expired.pem", stale.chainPEM),
            key: try directory.write("expired.key", stale.key.pemRepresentation))
    }
}

/// The first bytes of a real ClientHello, captured from `openssl s_client` by a listener that
/// answers nothing.
func clientHelloPrefix(openssl: String, pki: TestPKI) throws -> [UInt8] {
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
        }
    }
    guard bound else { throw PeerFailure(description: "cannot listen for a ClientHello") }
    let port = Int(UInt16(bigEndian: address.sin_port))
    let client = try BackgroundProcess(openssl, ["s_client", "-connect", "127.0.0.1:\(port)"])
    defer { client.stop() }
    let connection = accept(listener, nil, nil)
    guard connection >= 0 else { throw PeerFailure(description: "openssl never connected") }
    defer { close(connection) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, 4096, 0) }
    guard count > 60 else { throw PeerFailure(description: "no ClientHello from openssl") }
    return Array(buffer.prefix(count))
}

/// Connects, sends `bytes`, half-closes, and returns everything the server sent until it closed.
func rawExchange(_ port: Int, send bytes: [UInt8]) throws -> [UInt8] {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
    guard connected else { throw PeerFailure(description: "cannot connect to port \(port)") }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    if !bytes.isEmpty {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
    shutdown(descriptor, Int32(SHUT_WR))
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, 4096, 0) }
        if count <= 0 { break }
        received += buffer.prefix(count)
    }
    return received
}
