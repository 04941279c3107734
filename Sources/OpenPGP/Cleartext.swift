/// The cleartext signature framework (RFC 9580 section 7): readable text followed by an armored
/// text signature. The signed text is the lines with trailing spaces and tabs removed, joined
/// with CRLF; the line break before the signature is not part of it.
public enum Cleartext {
    public static func sign(_ text: [UInt8], with keys: [Certificate], at time: UInt32) throws(OpenPGPError) -> String {
        guard let string = String(validating: text, as: UTF8.self) else {
            throw .wrongKind("cleartext signatures need UTF-8 input")
        }
        let lines = string.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        let signed = Array(lines.map { trimmed(Substring($0)) }.joined(separator: "\n").utf8)
        let signatures = try DetachedSignatures.sign(signed, with: keys, mode: .text, at: time)
        let hashes = Set(signatures.filter { $0.version == 4 }.compactMap(\.hashAlgorithm))
        var output = "-----BEGIN PGP SIGNED MESSAGE-----\n"
        // GnuPG 2.2 wants the Hash header for v4 signatures; RFC 9580 drops it for v6.
        if !hashes.isEmpty { output += "Hash: " + hashes.map(\.name).sorted().joined(separator: ",") + "\n" }
        output += "\n"
        for line in lines { output += (line.hasPrefix("-") ? "- " : "") + line + "\n" }
        output += Armor.encode(PacketFraming.encode(signatures.map(\.packet)))
        return output
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
