import TLS

/// Where each endpoint listens, for the page to tell people (nil: not running).
public struct BountyAddresses: Sendable {
    public var http: String?
    public var https: String?
    public var tlsServer: String?
    public var connectBack: String?
    /// The port connect-back dials on the caller's address.
    public var connectBackPort: Int
    public var tlsClient: String?

    public init(
        http: String?, https: String?, tlsServer: String?, connectBack: String?, connectBackPort: Int,
        tlsClient: String?
    ) {
        self.http = http
        self.https = https
        self.tlsServer = tlsServer
        self.connectBack = connectBack
        self.connectBackPort = connectBackPort
        self.tlsClient = tlsClient
    }
}

/// What the Piñata shows over HTTP and HTTPS: the rules, the CA, and every attempt, so that
/// anyone can check that the bounty is what it says.
public enum BountyPages {
    /// `/`: the rules, the CA certificate and the counts. `timestamp` writes seconds since 1970 as a
    /// date (the shell owns the calendar).
    public static func index(
        credentials: PinataCredentials, ledger: AttemptLedger, addresses: BountyAddresses, startedAt: Int64,
        timestamp: (Int64) -> String
    ) -> String {
        var html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Quercus Piñata</title></head>
            <body style="font-family: sans-serif; max-width: 60em; margin: auto">

            """
        if credentials.isTestAuthority {
            html += """
                <h1 style="font-size: 4em; color: #b00; border: 0.2em solid #b00; padding: 0.3em">\
                TEST CA: THERE IS NO BOUNTY HERE</h1>
                <p style="font-size: 1.5em; color: #b00">This Piñata was started with <code>--test-ca</code>: \
                its CA key was read from a file, so whoever has that file can take the secret. \
                It exists to test the Piñata itself.</p>

                """
        }
        html += """
            <h1>Quercus Piñata</h1>
            <p>This process holds a secret. It gives the secret to anyone who completes a mutually \
            authenticated TLS handshake with it using a certificate issued by its certificate authority. \
            The CA's private key was made when the process started and never leaves its memory: \
            it is not on disk, in a log or on any page. The only way to the secret is to break the TLS \
            stack, the certificate checks or what lies under them: Quercus TLS, written in Swift, with \
            primitives from swift-crypto and X.509 parsing from swift-certificates.</p>
            <h2>How to try</h2>
            <ul>

            """
        if let address = addresses.tlsServer {
            html += """
                <li><b>TLS server</b> at <code>\(escape(address))</code>: connect with TLS 1.3; the \
                server demands a client certificate and sends the secret only if it chains to the CA below. \
                <code>openssl s_client -connect \(escape(address)) -cert c.pem -key c.key</code></li>

                """
        }
        if let address = addresses.connectBack {
            html += """
                <li><b>Connect-back</b> at <code>\(escape(address))</code>: open a TCP connection; the \
                Piñata closes it and connects to your address on port \(addresses.connectBackPort) as a TLS \
                client, with its own client certificate, and sends the secret if your server's certificate \
                chains to the CA. <code>openssl s_server -accept \(addresses.connectBackPort) -cert s.pem \
                -key s.key</code></li>

                """
        }
        if let address = addresses.tlsClient {
            html += """
                <li><b>TLS client</b> at <code>\(escape(address))</code>: open a TCP connection and act \
                as the TLS server on it; the Piñata runs the client side of the handshake and sends the \
                secret if your certificate chains to the CA.</li>

                """
        }
        html += """
            </ul>
            <h2>The certificate authority</h2>
            <p>Also at <a href="/ca.pem">/ca.pem</a>; counts in Prometheus's format at \
            <a href="/metrics">/metrics</a>.</p>
            <pre>\(escape(credentials.authority.certificatePEM))</pre>
            <h2>Attempts: \(ledger.total) since \(timestamp(startedAt))</h2>
            <table border="1" cellpadding="4"><tr><th>endpoint</th><th>outcome</th><th>count</th></tr>

            """
        for endpoint in ledger.counts.keys.sorted() {
            for (outcome, count) in (ledger.counts[endpoint] ?? [:]).sorted(by: { $0.key < $1.key }) {
                html +=
                    "<tr><td>\(endpoint.rawValue)</td><td>\(escape(outcome.description))</td><td>\(count)</td></tr>\n"
            }
        }
        html += """
            </table>
            <h2>Latest attempts</h2>
            <table border="1" cellpadding="4"><tr><th>time (UTC)</th><th>endpoint</th><th>peer</th>\
            <th>outcome</th><th>why</th></tr>

            """
        for attempt in ledger.recent.reversed() {
            html += """
                <tr><td>\(timestamp(attempt.time))</td><td>\(attempt.endpoint.rawValue)</td>\
                <td>\(escape(attempt.peer))</td><td>\(escape(attempt.outcome.description))</td>\
                <td>\(escape(attempt.detail))</td></tr>

                """
        }
        html += "</table>\n</body></html>\n"
        return html
    }

    /// `/metrics`: the counts in Prometheus's text format.
    public static func metrics(ledger: AttemptLedger, isTestAuthority: Bool) -> String {
        var text = """
            # HELP quercus_pinata_attempts_total Attempts at the secret, by endpoint and outcome.
            # TYPE quercus_pinata_attempts_total counter

            """
        for endpoint in ledger.counts.keys.sorted() {
            for (outcome, count) in (ledger.counts[endpoint] ?? [:]).sorted(by: { $0.key < $1.key }) {
                text += """
                    quercus_pinata_attempts_total{endpoint="\(endpoint.rawValue)",outcome="\(outcome)"} \(count)

                    """
            }
        }
        text += """
            # HELP quercus_pinata_test_ca 1 when the CA was loaded with --test-ca (no real bounty).
            # TYPE quercus_pinata_test_ca gauge
            quercus_pinata_test_ca \(isTestAuthority ? 1 : 0)

            """
        return text
    }

    /// Text for HTML, where peer-chosen strings (certificate names in error details) may appear.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
