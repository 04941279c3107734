import ArgumentParser
import CalDAV
import CalDAVHummingbird
import DAVStore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOShell
import QuercusCLI
import TLS

@main
struct QuercusCalDAV: QuercusCommand {
    static let configuration = CommandConfiguration(
        commandName: "quercus-caldav",
        abstract: "A WebDAV and CalDAV server with users, groups, access control and every change kept in git.",
        discussion: """
            `quercus-caldav --listen 127.0.0.1:8080 --store git:DIR --admin-password-file FILE` serves; \
            `quercus-caldav admin …` adds and removes users and groups on a running server; \
            `quercus-caldav revert COMMIT …` undoes a change kept in the git store. \
            Exit codes: 0 success (or stopped by a signal), 1 failure, 64 bad usage.
            """,
        version: QuercusVersion.string,
        subcommands: [Serve.self, Admin.self, Revert.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve calendars over HTTP (or HTTPS with --tls-cert).")

    @Option(help: "Address and port to listen on.")
    var listen = "127.0.0.1:8080"

    @Option(
        help:
            "Where calendars live: memory, fs:DIR (one file each) or git:DIR (a bare repository, a commit per change).")
    var store = "memory"

    @Option(help: "The file holding the administrator's password (user name 'admin').")
    var adminPasswordFile: String

    @Option(help: "A demo user made at start if missing, NAME:PASSWORD-FILE (quercus up uses it).")
    var demoUser: String?

    @Option(help: "Certificate chain (PEM) for HTTPS through Quercus TLS.")
    var tlsCert: String?

    @Option(help: "Private key (PEM) for --tls-cert.")
    var tlsKey: String?

    @Option(help: "PBKDF2-SHA256 rounds for new password hashes.")
    var passwordRounds = 210_000

    @Flag(help: .hidden)
    var noAnswerCache = false

    @Option(help: "Largest calendar object accepted, in bytes.")
    var maxResourceSize = 1 << 20

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "quercus-caldav")
        let address = try parseListenAddress(listen)
        guard let host = address.ipAddress, let port = address.port else {
            throw ValidationError("--listen \(listen): expected HOST:PORT")
        }
        let password = try readSecret(adminPasswordFile, what: "--admin-password-file")
        let (backend, revert) = try openStore(store, logger: logger)
        let accounts = try Accounts(store: backend, administratorPassword: password, rounds: passwordRounds)
        var limits = CalDAVLimits()
        limits.maximumResourceSize = maxResourceSize
        let server = CalDAVServer(
            store: backend, accounts: accounts, limits: limits,
            systemZone: { name in
                guard !name.contains(".."),
                    let data = FileManager.default.contents(atPath: "/usr/share/zoneinfo/\(name)")
                else { return nil }
                return [UInt8](data)
            }, revert: revert, cachesAnswers: !noAnswerCache)
        if let demoUser {
            let parts = demoUser.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ValidationError("--demo-user \(demoUser): expected NAME:PASSWORD-FILE")
            }
            if !accounts.isUser(parts[0]) {
                try server.addUser(
                    parts[0], password: try readSecret(parts[1], what: "--demo-user"),
                    now: Int64(Date().timeIntervalSince1970))
            }
        }
        let builder: HTTPServerBuilder
        let scheme: String
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?):
            var configuration = TLSConfiguration()
            do {
                configuration.identities = [
                    try CertifiedKey(
                        chainPEM: try readSecret(cert, what: "--tls-cert"),
                        keyPEM: try readSecret(key, what: "--tls-key"))
                ]
            } catch let error as TLSError {
                throw ValidationError("\(cert), \(key): \(error)")
            }
            configuration.applicationProtocols = ["http/1.1"]
            builder = .calDAV(tls: configuration)
            scheme = "https"
        case (nil, nil):
            builder = .calDAV
            scheme = "http"
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        let hostForURL = host.contains(":") ? "[\(host)]" : host
        let app = Application(
            responder: CalDAVResponder(
                server: server, maximumBody: maxResourceSize * 4, readsWithoutIO: !store.hasPrefix("fs:")),
            server: builder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "quercus-caldav"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("listening on \(scheme)://\(hostForURL):\(bound)/")
                if let demoUser {
                    let name = demoUser.split(separator: ":").first.map(String.init) ?? ""
                    logger.notice(
                        "add to your calendar client: \(scheme)://\(hostForURL):\(bound)/calendars/\(name)/default/")
                }
            }, logger: logger)
        try await app.runService()
    }

    /// The store `--store` names, and how to revert a commit in it (git only).
    func openStore(_ spec: String, logger: Logger) throws -> (
        any KeyValueStore, (@Sendable (String, ChangeOrigin) throws -> Void)?
    ) {
        if spec == "memory" { return (MemoryStore(), nil) }
        if spec.hasPrefix("fs:") { return (try DirectoryStore(root: String(spec.dropFirst(3))), nil) }
        if spec.hasPrefix("git:") {
            let options = spec.dropFirst(4).split(separator: ",").map(String.init)
            guard let directory = options.first else { throw ValidationError("--store git:DIR needs a directory") }
            var remoteURL: String?
            for option in options.dropFirst() {
                guard option.hasPrefix("remote=") else {
                    throw ValidationError("--store: unknown git option \(option)")
                }
                remoteURL = String(option.dropFirst(7))
            }
            guard let remoteURL else {
                let store = try GitStore(repository: directory)
                return (store, { commit, origin in try store.revert(commit: commit, origin: origin) })
            }
            // Make the repository if needed, take the remote's history, then open what it now holds.
            _ = try GitStore(repository: directory)
            let remote = GitRemote(repository: directory, url: remoteURL, logger: logger)
            try remote.pullAtStart()
            let store = try GitStore(repository: directory)
            let pusher = Pusher(remote)
            // Commits made before a crash, and not yet pushed, go now.
            if (try? remote.git(["rev-parse", "--verify", "--quiet", "refs/heads/main"])) != nil { pusher.changed() }
            return (
                NotifyingStore(store, changed: { pusher.changed() }),
                { commit, origin in
                    try store.revert(commit: commit, origin: origin)
                    pusher.changed()
                }
            )
        }
        throw ValidationError("--store \(spec): expected memory, fs:DIR or git:DIR")
    }
}

func readSecret(_ path: String, what: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("\(what) \(path): cannot read the file")
    }
    let text = String(decoding: data, as: UTF8.self)
    // A trailing newline is how editors and `echo` end a one-line file, not part of the secret.
    return text.hasSuffix("\r\n") ? String(text.dropLast(2)) : text.hasSuffix("\n") ? String(text.dropLast()) : text
}
