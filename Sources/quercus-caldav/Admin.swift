import ArgumentParser
import Foundation
import Glibc
import ICalendar

/// What every command that talks to a running server takes.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server, e.g. http://127.0.0.1:8080.")
    var url: String

    @Option(help: "The file holding the administrator's password.")
    var adminPasswordFile: String

    /// Sends one request as the administrator and returns the body, or throws with the server's words.
    func send(_ method: String, _ path: String, form: [(String, String)] = []) throws -> String {
        let password = try readSecret(adminPasswordFile, what: "--admin-password-file")
        let body = form.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
        let (status, text) = try AdminClient.request(
            url: url, method: method, path: path, body: Array(body.utf8),
            authorization: "Basic " + Base64.encode(Array("admin:\(password)".utf8)))
        guard (200..<300).contains(status) else {
            throw AdminClient.Failure(
                description: "\(method) \(path): \(status) \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return text
    }

    private func formEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage users and groups on a running server.",
        discussion: """
            Actions: add-user NAME --password-file F (also makes /principals/NAME/ and the calendar \
            /calendars/NAME/default/), remove-user NAME, add-group NAME, remove-group NAME, \
            add-member GROUP USER, remove-member GROUP USER, list.
            """)

    @OptionGroup var server: ServerOptions

    @Option(help: "For add-user: the file holding the new user's password.")
    var passwordFile: String?

    @Argument(help: "The action and its names.")
    var words: [String]

    func run() async throws {
        let name = words.dropFirst().first ?? ""
        let second = words.dropFirst(2).first ?? ""
        let expected: [String: Int] = [
            "add-user": 2, "remove-user": 2, "add-group": 2, "remove-group": 2, "add-member": 3, "remove-member": 3,
            "list": 1,
        ]
        guard let action = words.first, let count = expected[action] else {
            throw ValidationError("expected one of: \(expected.keys.sorted().joined(separator: ", "))")
        }
        guard words.count == count else { throw ValidationError("\(action) takes \(count - 1) name(s)") }
        let output: String
        switch action {
        case "add-user":
            guard let passwordFile else { throw ValidationError("add-user needs --password-file") }
            let password = try readSecret(passwordFile, what: "--password-file")
            output = try server.send("POST", "/admin/users", form: [("name", name), ("password", password)])
        case "remove-user": output = try server.send("DELETE", "/admin/users/\(name)")
        case "add-group": output = try server.send("POST", "/admin/groups", form: [("name", name)])
        case "remove-group": output = try server.send("DELETE", "/admin/groups/\(name)")
        case "add-member": output = try server.send("POST", "/admin/groups/\(name)/members", form: [("user", second)])
        case "remove-member": output = try server.send("DELETE", "/admin/groups/\(name)/members/\(second)")
        default: output = try server.send("GET", "/admin/list")
        }
        print(output, terminator: "")
    }
}

struct Revert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo one commit of a running server's git store with a new commit (a misbehaving client's change).")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The commit to undo (as `git log` shows it).") var commit: String
    func run() async throws {
        print(try server.send("POST", "/admin/revert", form: [("commit", commit)]), terminator: "")
    }
}

/// A minimal blocking HTTP/1.1 client for the administrator's commands (plain HTTP on loopback or
/// a trusted network; one request per connection).
enum AdminClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func request(url: String, method: String, path: String, body: [UInt8], authorization: String) throws -> (
        Int, String
    ) {
        guard url.hasPrefix("http://") else { throw Failure(description: "--url \(url): expected http://HOST:PORT") }
        let authority = url.dropFirst(7).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...])
        else {
            throw Failure(description: "--url \(url): expected http://HOST:PORT")
        }
        let host = String(authority[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else {
            throw Failure(description: "\(url): cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        let socket = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(socket) }
        guard connect(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "\(url): cannot connect (errno \(errno))")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(authority)\r\nAuthorization: \(authorization)\r\n"
        head += "User-Agent: quercus-caldav-admin\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if !body.isEmpty { head += "Content-Type: application/x-www-form-urlencoded\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "\(url): send failed (errno \(errno))") }
            sent += count
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
            let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw Failure(description: "\(url): no HTTP response") }
        let bodyText = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (code, bodyText)
    }
}
