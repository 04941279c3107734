/// The cleartext signature framework (RFC 9580 section 7): readable text followed by an armored
/// text signature. The signed text is the lines with trailing spaces and tabs removed, joined
/// with CRLF; the line break before the signature is not part of it.
public enum Cleartext {
    /// `CleartextSigner` fed the whole text.
    public static func sign(_ text: [UInt8], with keys: [Certificate], at time: UInt32) throws(OpenPGPError) -> String {
        var signer = try CleartextSigner(keys: keys, at: time)
        return String(decoding: try signer.update(text[...]) + signer.finish(), as: UTF8.self)
    }

    public static func isCleartext(_ input: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN PGP SIGNED MESSAGE-----".utf8)
        return input.firstRange(of: marker).map { range in
            input[..<range.lowerBound].allSatisfy(Armor.isWhitespace)
        } ?? false
    }

    /// The text as the reader sees it, the text that was signed, and the signatures.
    public static func parse(_ input: [UInt8]) throws(OpenPGPError) -> (
        text: [UInt8], signed: [UInt8], signatures: [Signature]
    ) {
        let lines = String(decoding: input, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let begin = lines.firstIndex(where: { trimmed($0) == "-----BEGIN PGP SIGNED MESSAGE-----" }) else {
            throw .armor(line: 1, reason: "no \"-----BEGIN PGP SIGNED MESSAGE-----\" line")
        }
        var index = begin + 1
        while index < lines.count, !trimmed(lines[index]).isEmpty {
            guard lines[index].hasPrefix("Hash:") else {
                throw .armor(line: index + 1, reason: "unexpected cleartext header")
            }
            index += 1
        }
        index += 1
        var body: [Substring] = []
        while index < lines.count, trimmed(lines[index]) != "-----BEGIN PGP SIGNATURE-----" {
            let line = lines[index]
            if line.hasPrefix("- ") {
                body.append(line.dropFirst(2))
            } else if line.hasPrefix("-") {
                throw .armor(line: index + 1, reason: "a line starting with a dash that is not dash-escaped")
            } else {
                body.append(line)
            }
            index += 1
        }
        guard index < lines.count else { throw .armor(line: lines.count, reason: "no signature after the text") }
        let signatureBlock = Array(lines[index...].joined(separator: "\n").utf8)
        let signatures: [Signature]
        do {
            signatures = try DetachedSignatures.parseSignatures(try Armor.decode(signatureBlock).bytes)
        } catch .armor(let line, let reason) {
            throw .armor(line: line + index, reason: reason)
        }
        let text = Array(body.joined(separator: "\n").utf8)
        let signed = Array(body.map { trimmed($0) }.joined(separator: "\n").utf8)
        return (text, signed, signatures)
    }

    private static func trimmed(_ line: Substring) -> String {
        var line = line
        while let last = line.last, last == " " || last == "\t" || last == "\r" { line = line.dropLast() }
        return String(line)
    }
}

/// A cleartext-signed message written while the text is still arriving, one line at a time (so
/// memory is bounded by the longest line): the header, each line as it ends (dash-escaped when it
/// starts with a dash, hashed without trailing spaces and tabs, joined with CRLF), then the
/// armored signatures. Lines end with LF or CRLF.
public struct CleartextSigner {
    private var signer: DetachedSigner
    private var header: [UInt8]
    private var line: [UInt8] = []
    private var isFirstLine = true

    public init(keys: [Certificate], at time: UInt32) throws(OpenPGPError) {
        signer = try DetachedSigner(keys: keys, mode: .text, at: time)
        // GnuPG 2.2 wants the Hash header for v4 signatures; RFC 9580 drops it for v6. The hash
        // algorithms are fixed when the signer is made, so a throwaway signature gives them.
        let hashes = Set(try signer.finish().filter { $0.version == 4 }.compactMap(\.hashAlgorithm))
        var text = "-----BEGIN PGP SIGNED MESSAGE-----\n"
        if !hashes.isEmpty { text += "Hash: " + hashes.map(\.name).sorted().joined(separator: ",") + "\n" }
        header = Array((text + "\n").utf8)
    }

    /// Takes text; returns the message bytes that are ready.
    public mutating func update(_ text: ArraySlice<UInt8>) throws(OpenPGPError) -> [UInt8] {
        var output = header
        header = []
        var rest = text
        while let newline = rest.firstIndex(of: 0x0A) {
            line += rest[..<newline]
            rest = rest[(newline + 1)...]
            output += try endLine()
        }
        line += rest
        return output
    }

    /// Ends the text (its last line, empty if the text ended with a line break) and signs.
    public mutating func finish() throws(OpenPGPError) -> [UInt8] {
        var output = try update([][...])
        output += try endLine()
        let signatures: [Signature]
        do {
            signatures = try signer.finish()
        } catch .wrongKind {
            throw .wrongKind("cleartext signatures need UTF-8 input")
        }
        output += Array(Armor.encode(PacketFraming.encode(signatures.map(\.packet))).utf8)
        return output
    }

    private mutating func endLine() throws(OpenPGPError) -> [UInt8] {
        defer { line.removeAll(keepingCapacity: true) }
        if line.last == 0x0D { line.removeLast() }
        var end = line.endIndex
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
        do {
            try signer.update((isFirstLine ? [] : [0x0A]) + line[..<end])
        } catch {
            throw .wrongKind("cleartext signatures need UTF-8 input")
        }
        isFirstLine = false
        return (line.first == UInt8(ascii: "-") ? Array("- ".utf8) : []) + line + [0x0A]
    }
}

extension HashAlgorithm {
    /// The name the cleartext Hash header uses.
    var name: String {
        switch self {
        case .sha1: return "SHA1"
        case .sha256: return "SHA256"
        case .sha384: return "SHA384"
        case .sha512: return "SHA512"
        }
    }
}
