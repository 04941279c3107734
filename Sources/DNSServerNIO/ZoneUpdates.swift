import DNS
import DNSServer
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Runs dynamic updates one at a time: plans each against the zones being served, stores the
/// new zone durably, installs it, and only then lets the answer go out, so an acknowledged update
/// survives a crash and a failed store acknowledges nothing (SERVFAIL).
public actor UpdateCoordinator {
    private let server: DNSNetworkServer
    private let store: @Sendable (Zone, String) throws -> Void
    private let logger: Logger
    private let onChange: @Sendable (DomainName) async -> Void

    /// `store` must not return before the zone is on stable storage.
    public init(
        server: DNSNetworkServer, logger: Logger, store: @escaping @Sendable (Zone, String) throws -> Void,
        onChange: @escaping @Sendable (DomainName) async -> Void = { _ in }
    ) {
        self.server = server
        self.store = store
        self.logger = logger
        self.onChange = onChange
    }

    public func handle(_ query: [UInt8], over transport: Transport, from address: [UInt8], at now: UInt32) async
        -> [UInt8]?
    {
        switch server.responder.planUpdate(query, over: transport, from: address, at: now) {
        case .answer(let reply):
            return reply
        case .commit(let zone, let summary, let success, let failure):
            do {
                try store(zone, summary)
            } catch {
                logger.error("update: \(summary) not stored, answered SERVFAIL: \(error)")
                return failure
            }
            var responder = server.responder
            responder.authority.add(zone)
            server.replaceResponder(responder)
            logger.info("update: \(summary)")
            let origin = zone.origin
            let onChange = self.onChange
            Task { await onChange(origin) }
            return success
        }
    }
}

/// Writes a zone file so that a crash leaves either the old file or the new one, never a torn
/// one: a temporary file beside it, flushed to disk, renamed over it, and the folder flushed.
public enum ZoneFileWriter {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func write(_ zone: Zone, to path: String, comment: String) throws {
        let text = "; \(comment)\n$ORIGIN \(zone.origin)\n" + zone.canonicalText
        try writeDurably(Array(text.utf8), to: path)
    }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".quercus-tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = failure("cannot write \(temporary)")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot flush \(temporary)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot replace \(path)")
            unlink(temporary)
            throw error
        }
        let folder = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]) : "."
        let folderDescriptor = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY)
        if folderDescriptor >= 0 {
            defer { close(folderDescriptor) }
            guard fsync(folderDescriptor) == 0 else { throw failure("cannot flush the folder of \(path)") }
        }
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
