import DNS

/// One zone this server copies from its primary, and the clock that says when to ask again
/// (RFC 1034 §4.3.5): every `refresh` seconds after a success, every `retry` seconds after a
/// failure, and no more answers once `expire` seconds pass without reaching the primary. A NOTIFY
/// (RFC 1996) makes the next check due at once. Pure: the shell asks it what to send, sends it,
/// and hands back what came back with the time.
public struct SecondaryZone: Sendable {
    public let origin: DomainName
    /// The copy being served; nil until the first transfer.
    public private(set) var zone: Zone?
    /// When the primary last confirmed the copy (a transfer, or an SOA with the same serial).
    public private(set) var confirmedAt: Int64?
    /// When to ask the primary next.
    public private(set) var nextCheck: Int64
    public private(set) var consecutiveFailures = 0

    /// Before the first transfer the SOA's timers are unknown: retry soon, backing off to this.
    static let initialRetryLimit: Int64 = 300

    public init(origin: DomainName, now: Int64) {
        self.origin = origin
        self.nextCheck = now
    }

    public var soa: SOARecord? { zone?[.soa, at: origin]?.records.first }
    public var serial: UInt32? { soa?.serial }

    public func isDue(at now: Int64) -> Bool { now >= nextCheck }

    /// True once `expire` seconds passed since the primary last confirmed the copy: the zone must
    /// no longer be answered from.
    public func isExpired(at now: Int64) -> Bool {
        guard let soa, let confirmedAt else { return true }
        return now - confirmedAt >= Int64(soa.expire)
    }

    /// The question that tells whether the primary has a newer serial.
    public func soaQuery(id: UInt16) -> Message {
        Message(id: id, questions: [Question(name: origin, type: .soa)])
    }

    /// IXFR carrying our SOA when we have a copy (RFC 1995 §3), AXFR otherwise or when asked.
    public func transferQuery(id: UInt16, incremental: Bool = true) -> Message {
        guard incremental, let soa, let ttl = zone?[.soa, at: origin]?.ttl else {
            return Message(id: id, questions: [Question(name: origin, type: .axfr)])
        }
        return Message(
            id: id, questions: [Question(name: origin, type: .ixfr)],
            authority: [ResourceRecord(name: origin, ttl: ttl, data: .soa(soa))])
    }

    public enum CheckResult: Sendable, Equatable {
        case upToDate
        case transferNeeded
    }

    /// Reads the primary's answer to `soaQuery`. A serial newer than ours (RFC 1982 arithmetic)
    /// or no copy yet means a transfer; the same serial confirms the copy.
    public mutating func checked(_ response: Message, now: Int64) throws(SecondaryError) -> CheckResult {
        guard response.rcode == .noError, response.authoritative else {
            throw .badResponse(
                "the primary answered the SOA query with \(response.rcode)\(response.authoritative ? "" : " without AA")"
            )
        }
        guard
            case .soa(let theirs)? = response.answers.first(where: { $0.name == origin && $0.data.type == .soa })?.data
        else {
            throw .badResponse("the primary's answer has no SOA for \(origin)")
        }
        guard let ours = serial, !serialIsNewer(theirs.serial, than: ours) else { return .transferNeeded }
        confirm(now: now)
        return .upToDate
    }

    /// Installs the zone a completed transfer produced and restarts the refresh clock.
    public mutating func transferred(_ zone: Zone, now: Int64) {
        self.zone = zone
        confirm(now: now)
    }

    /// The primary could not be reached or answered badly: try again after `retry`.
    public mutating func failed(now: Int64) {
        consecutiveFailures += 1
        if let soa {
            nextCheck = now + Int64(max(soa.retry, 1))
        } else {
            let backoff = Int64(1) << Int64(min(consecutiveFailures, 8))
            nextCheck = now + min(backoff, Self.initialRetryLimit)
        }
    }

    /// A NOTIFY for this zone arrived from the primary: check at once.
    public mutating func notified(now: Int64) {
        nextCheck = min(nextCheck, now)
    }

    private mutating func confirm(now: Int64) {
        confirmedAt = now
        consecutiveFailures = 0
        nextCheck = now + Int64(max(soa?.refresh ?? 3600, 1))
    }
}

public enum SecondaryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The primary's answer does not make sense for this zone; the text says why.
    case badResponse(String)

    public var description: String {
        switch self {
        case .badResponse(let reason): return reason
        }
    }
}

/// `a` is newer than `b` in RFC 1982 serial arithmetic.
func serialIsNewer(_ a: UInt32, than b: UInt32) -> Bool {
    a != b && (a &- b) < 0x8000_0000
}

/// Collects the messages of an AXFR or IXFR response and builds the new zone from them. An IXFR
/// answer is applied to `current` as the differences it lists (RFC 1995 §4), or taken whole when
/// the primary sent the full zone instead; an AXFR is always whole (RFC 5936).
public struct IncomingTransfer: Sendable {
    public let origin: DomainName
    let current: Zone?
    /// IXFR was asked: the answer may be differences. An AXFR answer is always the whole zone.
    let incremental: Bool
    private var records: [ResourceRecord] = []
    public private(set) var isComplete = false

    /// `query` is the transfer question sent (`SecondaryZone.transferQuery`), `current` the copy.
    public init(for query: Message, current: Zone?) {
        self.origin = query.questions.first?.name ?? .root
        self.current = current
        self.incremental = query.questions.first?.type == .ixfr
    }

    /// The answer lists differences: IXFR, and a second SOA that is not just the closing one of
    /// an empty zone.
    public var appliedDifferences: Bool { isDifferences }

    private var isDifferences: Bool {
        guard incremental, records.count > 2, case .soa = records[1].data else { return false }
        return true
    }

    /// Adds one response message; returns true when the transfer is complete.
    public mutating func add(_ message: Message) throws(SecondaryError) -> Bool {
        guard !isComplete else { throw .badResponse("records after the end of the transfer") }
        guard message.rcode == .noError else {
            throw .badResponse("the primary refused the transfer: \(message.rcode)")
        }
        records += message.answers
        guard let first = records.first else { return false }
        guard first.name == origin, case .soa(let final) = first.data else {
            throw .badResponse("the transfer does not start with the SOA of \(origin)")
        }
        if records.count == 1 {
            // IXFR with only the SOA: the copy is current (RFC 1995 §4).
            if let ours = currentSerial, !serialIsNewer(final.serial, than: ours) { isComplete = true }
            return isComplete
        }
        guard let last = records.last, case .soa(let closing) = last.data, closing.serial == final.serial else {
            return false
        }
        isComplete = isDifferences ? try incrementalEnds(finalSerial: final.serial) : true
        return isComplete
    }

    private var currentSerial: UInt32? {
        guard case .soa(let soa)? = current?.rrset(.soa, at: origin).flatMap({ $0.data.first }) else { return nil }
        return soa.serial
    }

    /// The zone the transfer describes; call when `add` returned true.
    public func zone() throws(SecondaryError) -> Zone {
        guard isComplete, let first = records.first else { throw .badResponse("the transfer is not complete") }
        if records.count == 1 {
            guard let current else { throw .badResponse("an up-to-date answer but no copy to keep") }
            return current
        }
        var result: [ResourceRecord]
        if isDifferences {
            guard let current else { throw .badResponse("an incremental transfer but no copy to apply it to") }
            result = try applyDifferences(to: current.canonicalRecords)
        } else {
            // AXFR form: everything between the two SOAs.
            result = [first] + records.dropFirst().dropLast()
        }
        do {
            return try Zone(origin: origin, records: result)
        } catch {
            throw .badResponse("the transferred records are not a zone: \(error)")
        }
    }

    /// Walks SOA(old) deletions SOA(new) additions … SOA(final) and says whether the last
    /// record closes the sequence.
    private func incrementalEnds(finalSerial: UInt32) throws(SecondaryError) -> Bool {
        var index = 1
        while index < records.count {
            guard case .soa(let from) = records[index].data else {
                throw .badResponse("an incremental transfer with records outside a difference")
            }
            index += 1
            while index < records.count, records[index].data.type != .soa { index += 1 }
            guard index < records.count, case .soa(let to) = records[index].data else { return false }
            guard serialIsNewer(to.serial, than: from.serial) else {
                throw .badResponse("a difference from serial \(from.serial) to \(to.serial) goes backwards")
            }
            index += 1
            while index < records.count, records[index].data.type != .soa { index += 1 }
            guard index < records.count else { return false }
            if to.serial == finalSerial { return index == records.count - 1 }
        }
        return false
    }

    private func applyDifferences(to start: [ResourceRecord]) throws(SecondaryError) -> [ResourceRecord] {
        var zone = start
        var index = 1
        let body = records.dropLast()
        while index < body.count {
            index += 1  // the SOA this difference starts from
            while index < body.count, body[index].data.type != .soa {
                let deleted = body[index]
                guard let position = zone.firstIndex(where: { $0.name == deleted.name && $0.data == deleted.data })
                else {
                    throw .badResponse("the difference deletes \(deleted), which the copy does not have")
                }
                zone.remove(at: position)
                index += 1
            }
            guard index < body.count else { break }
            let newSOA = body[index]
            zone.removeAll { $0.name == origin && $0.data.type == .soa }
            zone.append(newSOA)
            index += 1
            while index < body.count, body[index].data.type != .soa {
                let added = body[index]
                if !zone.contains(where: { $0.name == added.name && $0.data == added.data }) { zone.append(added) }
                index += 1
            }
        }
        return zone
    }
}
