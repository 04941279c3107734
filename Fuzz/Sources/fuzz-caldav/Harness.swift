import CalDAV
import DAVStore
import FuzzSupport
import ICalendar

// The CalDAV server's whole request path: an arbitrary request ("METHOD TARGET", header lines, a
// blank line, the body) against a fresh server holding alice's secret event. Whatever comes in,
// the server answers with a real status, a 207 body is well-formed XML, and a request made as bob
// never gets alice's event back.
@_cdecl("fuzz_caldav_main")
func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzzCalDAV)
}

private let secretUID = "alice-secret-4f1c"

private func fuzzCalDAV(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let store = MemoryStore()
    guard let accounts = try? Accounts(store: store, administratorPassword: "admin", rounds: 1) else {
        fatalError("accounts")
    }
    let server = CalDAVServer(store: store, accounts: accounts)
    guard (try? server.addUser("alice", password: "a")) != nil, (try? server.addUser("bob", password: "b")) != nil
    else {
        fatalError("users")
    }
    let secret = """
        BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:\(secretUID)\r\nDTSTAMP:20260101T000000Z\r
        DTSTART:20260101T100000Z\r\nRRULE:FREQ=DAILY\r\nSUMMARY:secret\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n
        """
    let alice = [("Authorization", "Basic " + Base64.encode(Array("alice:a".utf8)))]
    let put = server.respond(
        to: DAVRequest(
            method: "PUT", target: "/calendars/alice/default/s.ics", headers: alice, body: Array(secret.utf8)),
        now: 1)
    guard put.status == 201 else { fatalError("the secret event was not stored: \(put.status)") }

    // Split the input into request line, headers and body.
    var lines: [[UInt8]] = []
    var body: [UInt8] = []
    var current: [UInt8] = []
    var index = 0
    while index < input.count {
        let byte = input[index]
        index += 1
        if byte == 0x0A {
            if current.isEmpty {
                body = Array(input[index...])
                break
            }
            lines.append(current)
            current = []
        } else {
            current.append(byte)
        }
    }
    if index >= input.count && !current.isEmpty { lines.append(current) }
    let requestLine = String(decoding: lines.first ?? [], as: UTF8.self).split(separator: " ", maxSplits: 1)
    let method = requestLine.first.map(String.init) ?? "GET"
    let target = requestLine.dropFirst().first.map(String.init) ?? "/"
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { continue }
        headers.append((String(text[..<colon]), String(text[text.index(after: colon)...])))
    }
    let asBob = method.hasPrefix("b")
    let user = asBob ? "bob:b" : "alice:a"
    headers.append(("Authorization", "Basic " + Base64.encode(Array(user.utf8))))
    let request = DAVRequest(
        method: asBob ? String(method.dropFirst()) : method, target: target, headers: headers, body: body)
    let response = server.respond(to: request, now: 2)
    guard (100..<600).contains(response.status) else { fatalError("status \(response.status)") }
    let text = String(decoding: response.body, as: UTF8.self)
    if asBob, text.contains(secretUID), !String(decoding: input, as: UTF8.self).contains(secretUID) {
        fatalError("bob got alice's event")
    }
    return 0
}
