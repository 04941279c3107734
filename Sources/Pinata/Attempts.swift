import TLS

/// The three ways to try for the secret.
public enum BountyEndpoint: String, CaseIterable, Sendable, Comparable {
    /// We are the TLS server; the peer must show a client certificate from our CA.
    case tlsServer = "tls-server"
    /// The peer connects, we hang up and connect back to it as a TLS client.
    case connectBack = "connect-back"
    /// The peer connects and then acts as the TLS server; we are the client.
    case tlsClient = "tls-client"

    public static func < (left: BountyEndpoint, right: BountyEndpoint) -> Bool {
        allCases.firstIndex(of: left) ?? 0 < allCases.firstIndex(of: right) ?? 0
    }
}

/// How one attempt ended. Few enough kinds to count; the engine's own words go in `Attempt.detail`.
public enum AttemptOutcome: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The peer authenticated with a certificate from our CA and received the secret.
    case secretSent
    /// We refused the peer and told it with this alert.
    case rejected(AlertDescription)
    /// The peer gave up and told us with this alert.
    case peerAlert(AlertDescription)
    /// The handshake did not finish in time.
    case timedOut
    /// The peer closed the connection before the handshake finished.
    case closedEarly
    /// We could not open the connection back to the peer.
    case unreachable

    /// The outcome of a handshake that failed with `error`.
    public init(_ error: TLSError) {
        if case .peerAlert(let alert) = error {
            self = .peerAlert(alert)
        } else if let alert = error.alert {
            self = .rejected(alert)
        } else {
            self = .closedEarly
        }
    }

    public var description: String {
        switch self {
        case .secretSent: return "secret sent"
        case .rejected(let alert): return "rejected: \(alert)"
        case .peerAlert(let alert): return "peer sent \(alert)"
        case .timedOut: return "timed out"
        case .closedEarly: return "closed during handshake"
        case .unreachable: return "could not connect back"
        }
    }

    public static func < (left: AttemptOutcome, right: AttemptOutcome) -> Bool {
        left.description < right.description
    }
}

public struct Attempt: Sendable {
    public var endpoint: BountyEndpoint
    /// The peer's address as the shell saw it.
    public var peer: String
    /// Seconds since 1970.
    public var time: Int64
    public var outcome: AttemptOutcome
    /// The reason in the engine's words (may quote what the peer sent: escape before showing).
    public var detail: String

    public init(endpoint: BountyEndpoint, peer: String, time: Int64, outcome: AttemptOutcome, detail: String) {
        self.endpoint = endpoint
        self.peer = peer
        self.time = time
        self.outcome = outcome
        self.detail = String(detail.prefix(Self.detailLimit))
    }

    static let detailLimit = 300
}

/// Every attempt counted by endpoint and outcome, and the latest ones kept for the page.
public struct AttemptLedger: Sendable {
    public static let recentLimit = 50

    public private(set) var counts: [BountyEndpoint: [AttemptOutcome: Int]] = [:]
    /// The latest attempts, oldest first.
    public private(set) var recent: [Attempt] = []

    public init() {}

    public mutating func record(_ attempt: Attempt) {
        counts[attempt.endpoint, default: [:]][attempt.outcome, default: 0] += 1
        recent.append(attempt)
        if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
    }

    public var total: Int {
        counts.values.reduce(0) { $0 + $1.values.reduce(0, +) }
    }

    public func count(_ endpoint: BountyEndpoint, _ outcome: AttemptOutcome) -> Int {
        counts[endpoint]?[outcome] ?? 0
    }
}
