/// Response rate limiting over UDP (after BIND's and NSD's RRL): a spoofed source cannot turn the
/// server into an amplifier, because identical responses to one client network are capped per
/// second. Beyond the cap a response is dropped, except every `slip`-th, which goes out empty with
/// TC set so that a real client retries over TCP, where no limit applies.
public struct ResponseRateLimiter: Sendable {
    public enum Decision: Sendable, Equatable {
        case send
        /// Send a truncated empty response instead (TC set).
        case slip
        case drop
    }

    public let responsesPerSecond: Int
    public let slip: Int
    /// Buckets kept at most; the oldest are forgotten first (a flood of sources cannot grow memory).
    public let capacity: Int

    private struct Bucket {
        var second: Int64
        var count: Int
        var limited: Int
    }

    private var buckets: [Key: Bucket] = [:]
    private var order: [Key] = []
    private var orderStart = 0

    /// What makes two responses "the same": the client network (/24 for IPv4, /56 for IPv6), the
    /// rcode, and for answers the question (name lowercased and type); errors and NXDOMAIN share
    /// one bucket per network, so random names do not escape the limit.
    struct Key: Hashable {
        var network: [UInt8]
        var rcode: UInt8
        var question: [UInt8]
    }

    public init(responsesPerSecond: Int, slip: Int = 2, capacity: Int = 100_000) {
        self.responsesPerSecond = max(1, responsesPerSecond)
        self.slip = max(0, slip)
        self.capacity = max(1, capacity)
    }

    /// Decides for one UDP response (encoded) to a client address (4 or 16 bytes) at `now` (seconds).
    public mutating func decide(response: [UInt8], client: [UInt8], now: Int64) -> Decision {
        guard response.count >= 12 else { return .send }
        let key = Key(
            network: Array(client.prefix(client.count == 16 ? 7 : 3)), rcode: response[3] & 0x0F,
            question: response[3] & 0x0F == 0 ? Self.question(in: response) : [])
        var bucket = buckets[key] ?? Bucket(second: now, count: 0, limited: 0)
        if bucket.second != now {
            bucket = Bucket(second: now, count: 0, limited: bucket.limited)
        }
        bucket.count += 1
        let decision: Decision
        if bucket.count <= responsesPerSecond {
            decision = .send
        } else {
            bucket.limited += 1
            decision = slip > 0 && bucket.limited % slip == 0 ? .slip : .drop
        }
        if buckets.updateValue(bucket, forKey: key) == nil { remember(key) }
        return decision
    }

    /// The question's name (lowercased, uncompressed as it is in a response) and type.
    private static func question(in response: [UInt8]) -> [UInt8] {
        var index = 12
        var bytes: [UInt8] = []
        while index < response.count {
            let length = Int(response[index])
            if length == 0 || length & 0xC0 != 0 { break }
            let end = index + 1 + length
            guard end <= response.count else { break }
            for byte in response[index..<end] { bytes.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
            index = end
        }
        if index + 3 <= response.count { bytes += response[(index + 1)..<(index + 3)] }
        return bytes
    }

    private mutating func remember(_ key: Key) {
        order.append(key)
        while buckets.count > capacity, orderStart < order.count {
            buckets[order[orderStart]] = nil
            orderStart += 1
        }
        if orderStart > 4096 && orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }

    /// The slip answer: the response's header and question with TC set and every section after
    /// the question emptied.
    public static func truncated(_ response: [UInt8]) -> [UInt8]? {
        guard response.count >= 12 else { return nil }
        var index = 12
        if response[4] | response[5] != 0 {
            while index < response.count {
                let length = Int(response[index])
                if length == 0 {
                    index += 1
                    break
                }
                guard length & 0xC0 == 0 else { return nil }
                index += 1 + length
            }
            index += 4
        }
        guard index <= response.count else { return nil }
        var slip = Array(response[0..<index])
        slip[2] |= 0x02
        slip[4] = 0
        slip[5] = index > 12 ? 1 : 0
        for position in 6..<12 { slip[position] = 0 }
        return slip
    }
}
