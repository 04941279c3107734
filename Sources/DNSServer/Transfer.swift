import DNS

/// Who may transfer zones out of this server: addresses and prefixes, checked against the
/// client's address bytes (4 for IPv4, 16 for IPv6).
public struct AddressPolicy: Sendable, Equatable {
    public struct Prefix: Sendable, Equatable {
        public let address: [UInt8]
        public let length: Int

        /// `192.0.2.0/24`, `2001:db8::/32`, or a single address.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let first = parts.first else { return nil }
            if let v4 = try? IPv4Address(String(first)) {
                address = v4.bytes
            } else if let v6 = try? IPv6Address(String(first)) {
                address = v6.bytes
            } else {
                return nil
            }
            if parts.count == 2 {
                guard let length = Int(parts[1]), (0...(address.count * 8)).contains(length) else { return nil }
                self.length = length
            } else {
                length = address.count * 8
            }
        }

        func contains(_ candidate: [UInt8]) -> Bool {
            guard candidate.count == address.count else { return false }
            for bit in 0..<length where (candidate[bit / 8] ^ address[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
                return false
            }
            return true
        }
    }

    public var prefixes: [Prefix]

    public init(_ prefixes: [Prefix] = []) {
        self.prefixes = prefixes
    }

    public func allows(_ address: [UInt8]) -> Bool {
        prefixes.contains { $0.contains(address) }
    }
}

extension Authority {
    /// Messages at most this large (uncompressed) before the next one starts; compression only
    /// makes them smaller, so each stays well within TCP's 65,535.
    static let transferMessageBudget = 16_384

    /// The answer to AXFR (RFC 5936) or IXFR (RFC 1995) as a series of messages: the SOA, every
    /// other record, the SOA again. IXFR gets the differences since the client's serial when the
    /// journal reaches back that far, the full form otherwise, or just the SOA when the client
    /// already has the current serial. Nil when the query is not a transfer.
    public func transfer(_ query: Message) -> [Message]? {
        guard let question = query.questions.first, question.type == .axfr || question.type == .ixfr else {
            return nil
        }
        var refusal = Message.response(to: query)
        guard query.questions.count == 1, let indexed = zones[question.name], let soa = indexed.soa,
            let soaData = soa.records.first
        else {
            refusal.rcode = query.questions.count == 1 ? .notAuthoritative : .formatError
            return [refusal]
        }
        let origin = indexed.origin
        let soaRecord = ResourceRecord(name: origin, ttl: soa.ttl, data: .soa(soaData))
        if question.type == .ixfr, case .soa(let theirs)? = query.authority.first?.data,
            !serial(theirs.serial, isOlderThan: soaData.serial)
        {
            var upToDate = Message.response(to: query)
            upToDate.authoritative = true
            upToDate.answers = [soaRecord]
            return [upToDate]
        }
        var stream: [ResourceRecord]
        if question.type == .ixfr, case .soa(let theirs)? = query.authority.first?.data,
            let differences = journals[origin]?.differences(since: theirs.serial)
        {
            // RFC 1995 §4: the new SOA, then per change the old SOA, deletions, new SOA, additions.
            stream = [soaRecord]
            for difference in differences {
                stream += [difference.from] + difference.deleted + [difference.to] + difference.added
            }
            stream.append(soaRecord)
        } else {
            stream = [soaRecord] + indexed.zone.canonicalRecords.filter { $0.type != .soa } + [soaRecord]
        }
        var messages: [Message] = []
        var current = Message.response(to: query)
        current.authoritative = true
        var size = 0
        for record in stream {
            let recordSize = record.name.wire.count + 10 + record.data.wireBytes().count
            if size + recordSize > Self.transferMessageBudget, !current.answers.isEmpty {
                messages.append(current)
                current = Message.response(to: query)
                current.authoritative = true
                // RFC 5936 §2.2: only the first message repeats the question.
                current.questions = []
                size = 0
            }
            current.answers.append(record)
            size += recordSize
        }
        messages.append(current)
        return messages
    }

    /// RFC 1982 serial-number arithmetic: whether `a` comes before `b`.
    private func serial(_ a: UInt32, isOlderThan b: UInt32) -> Bool {
        a != b && (b &- a) < 0x8000_0000
    }
}
