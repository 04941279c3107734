import DNS
import DNSServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell

/// Counters of what the server answered, exposed in Prometheus's text format.
public final class ServerMetrics: Sendable {
    private struct Counts {
        var udpQueries: UInt64 = 0
        var tcpQueries: UInt64 = 0
        /// Indexed by the 4-bit header rcode: a fixed array, so counting allocates nothing.
        var responses = [UInt64](repeating: 0, count: 16)
        var dropped: UInt64 = 0
        var tcpRefused: UInt64 = 0
        var rateLimitedDropped: UInt64 = 0
        var rateLimitedSlipped: UInt64 = 0
    }

    private let counts = NIOLockedValueBox(Counts())

    public init() {}

    /// One query and its reply (nil: dropped; the first message of a transfer counts).
    func record(_ transport: Transport, reply: [UInt8]?) {
        counts.withLockedValue { counts in
            if transport == .udp { counts.udpQueries += 1 } else { counts.tcpQueries += 1 }
            guard let reply, reply.count >= 4 else {
                counts.dropped += 1
                return
            }
            counts.responses[Int(reply[3] & 0x0F)] += 1
        }
    }

    func recordRateLimited(slipped: Bool) {
        counts.withLockedValue { counts in
            if slipped { counts.rateLimitedSlipped += 1 } else { counts.rateLimitedDropped += 1 }
        }
    }

    func recordRefusedConnection() {
        counts.withLockedValue { $0.tcpRefused += 1 }
    }

    /// The Prometheus text exposition (version 0.0.4).
    public func render() -> String {
        let snapshot = counts.withLockedValue { $0 }
        var text = "# HELP quercus_dns_queries_total Queries received, by transport.\n"
        text += "# TYPE quercus_dns_queries_total counter\n"
        text += "quercus_dns_queries_total{transport=\"tcp\"} \(snapshot.tcpQueries)\n"
        text += "quercus_dns_queries_total{transport=\"udp\"} \(snapshot.udpQueries)\n"
        text += "# HELP quercus_dns_responses_total Responses sent, by response code.\n"
        text += "# TYPE quercus_dns_responses_total counter\n"
        for (code, count) in snapshot.responses.enumerated() where count > 0 {
            text += "quercus_dns_responses_total{rcode=\"\(ResponseCode(rawValue: UInt16(code)))\"} \(count)\n"
        }
        text += "# HELP quercus_dns_dropped_total Packets answered with nothing (malformed or responses).\n"
        text += "# TYPE quercus_dns_dropped_total counter\n"
        text += "quercus_dns_dropped_total \(snapshot.dropped)\n"
        text += "# HELP quercus_dns_tcp_refused_total TCP connections closed at the connection limit.\n"
        text += "# TYPE quercus_dns_tcp_refused_total counter\n"
        text += "quercus_dns_tcp_refused_total \(snapshot.tcpRefused)\n"
        text += "# HELP quercus_dns_rate_limited_total UDP responses held back by rate limiting (--rrl).\n"
        text += "# TYPE quercus_dns_rate_limited_total counter\n"
        text += "quercus_dns_rate_limited_total{action=\"drop\"} \(snapshot.rateLimitedDropped)\n"
        text += "quercus_dns_rate_limited_total{action=\"slip\"} \(snapshot.rateLimitedSlipped)\n"
        return text
    }
}

/// `GET /metrics` answered with `render()`, for Prometheus to scrape.
public enum MetricsEndpoint {
    public static func bind(
        _ address: SocketAddress, group: any EventLoopGroup, render: @escaping @Sendable () -> String
    ) async throws -> any Channel {
        try await PageEndpoint.bind(address, group: group) { path in
            path == "/metrics"
                ? Page(contentType: "text/plain; version=0.0.4", body: render())
                : .notFound("not found: try /metrics\n")
        }
    }
}
