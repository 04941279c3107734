import DNS
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOShell

/// Counters of what the server answered, exposed in Prometheus's text format.
public final class ServerMetrics: Sendable {
    private struct Counts {
        var queries: [String: UInt64] = ["udp": 0, "tcp": 0]
        var responses: [UInt16: UInt64] = [:]
        var dropped: UInt64 = 0
        var tcpRefused: UInt64 = 0
    }

    private let counts = NIOLockedValueBox(Counts())

    public init() {}

    func record(transport: String, replies: [[UInt8]]) {
        counts.withLockedValue { counts in
            counts.queries[transport, default: 0] += 1
            if replies.isEmpty { counts.dropped += 1 }
            for reply in replies.prefix(1) where reply.count >= 4 {
                counts.responses[UInt16(reply[3] & 0x0F), default: 0] += 1
            }
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
        for (transport, count) in snapshot.queries.sorted(by: { $0.key < $1.key }) {
            text += "quercus_dns_queries_total{transport=\"\(transport)\"} \(count)\n"
        }
        text += "# HELP quercus_dns_responses_total Responses sent, by response code.\n"
        text += "# TYPE quercus_dns_responses_total counter\n"
        for (code, count) in snapshot.responses.sorted(by: { $0.key < $1.key }) {
            text += "quercus_dns_responses_total{rcode=\"\(ResponseCode(rawValue: code))\"} \(count)\n"
        }
        text += "# HELP quercus_dns_dropped_total Packets answered with nothing (malformed or responses).\n"
        text += "# TYPE quercus_dns_dropped_total counter\n"
        text += "quercus_dns_dropped_total \(snapshot.dropped)\n"
        text += "# HELP quercus_dns_tcp_refused_total TCP connections closed at the connection limit.\n"
        text += "# TYPE quercus_dns_tcp_refused_total counter\n"
        text += "quercus_dns_tcp_refused_total \(snapshot.tcpRefused)\n"
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
