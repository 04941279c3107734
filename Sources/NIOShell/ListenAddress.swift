import NIOCore

/// `127.0.0.1:5300` or `[::1]:5300`, as every Quercus `--listen` flag spells an address.
public func parseListenAddress(_ text: String) throws -> SocketAddress {
    let host: Substring
    let port: Substring
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = text[text.index(after: text.startIndex)..<close]
        let rest = text[text.index(after: close)...]
        guard rest.hasPrefix(":") else { throw ListenAddressError(text: text) }
        port = rest.dropFirst()
    } else if let colon = text.lastIndex(of: ":") {
        host = text[..<colon]
        port = text[text.index(after: colon)...]
    } else {
        throw ListenAddressError(text: text)
    }
    guard let number = Int(port), (0...65535).contains(number) else { throw ListenAddressError(text: text) }
    do {
        return try SocketAddress(ipAddress: String(host), port: number)
    } catch {
        throw ListenAddressError(text: text)
    }
}

public struct ListenAddressError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "\"\(text)\" is not an address to listen on (127.0.0.1:5300 or [::1]:5300)" }
}
