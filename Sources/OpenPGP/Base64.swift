/// The base64 alphabet of RFC 4648, which ASCII armor uses.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let padding = UInt8(ascii: "=")
    /// Each byte's value in the alphabet, 0xFF for bytes outside it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Whether every byte of `text` is in the alphabet or is padding.
    static func isAlphabetOrPadding(_ text: ArraySlice<UInt8>) -> Bool {
        values.withUnsafeBufferPointer { values in
            text.withUnsafeBufferPointer { text in
                for byte in text where values[Int(byte)] == 0xFF && byte != padding { return false }
                return true
            }
        }
    }

    static func encode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        encode(ArraySlice(bytes), into: &output)
        return output
    }

    /// Appends the base64 of `bytes` (padded) to `output`.
    static func encode(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: (bytes.count + 2) / 3 * 4))
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                _ = encode(input, into: output, at: start)
            }
        }
    }

    /// Appends the base64 of the whole `lineBytes`-byte lines at the start of `bytes` to
    /// `output`, each followed by a line feed; returns how many bytes that took.
    static func encodeLines(_ bytes: ArraySlice<UInt8>, lineBytes: Int, into output: inout [UInt8]) -> Int {
        let lines = bytes.count / lineBytes
        let lineLength = lineBytes / 3 * 4 + 1
        let start = output.count
        output.append(contentsOf: repeatElement(0x0A, count: lines * lineLength))
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                for line in 0..<lines {
                    let piece = UnsafeBufferPointer(rebasing: input[(line * lineBytes)..<((line + 1) * lineBytes)])
                    _ = encode(piece, into: output, at: start + line * lineLength)
                }
            }
        }
        return lines * lineBytes
    }

    /// Writes the base64 of `input` at `offset`, where `output` has room; returns the end.
    private static func encode(
        _ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>, at offset: Int
    ) -> Int {
        alphabet.withUnsafeBufferPointer { alphabet in
            var read = 0
            var written = offset
            while read < input.count {
                let available = min(3, input.count - read)
                var group = UInt32(input[read]) << 16
                if available > 1 { group |= UInt32(input[read + 1]) << 8 }
                if available > 2 { group |= UInt32(input[read + 2]) }
                output[written] = alphabet[Int(group >> 18 & 0x3F)]
                output[written + 1] = alphabet[Int(group >> 12 & 0x3F)]
                output[written + 2] = available > 1 ? alphabet[Int(group >> 6 & 0x3F)] : padding
                output[written + 3] = available > 2 ? alphabet[Int(group & 0x3F)] : padding
                read += 3
                written += 4
            }
            return written
        }
    }

    /// Decodes base64 text with any line breaks already removed; nil when it is not base64.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        return decode(text[...], into: &output) ? output : nil
    }

    /// Appends the bytes `text` encodes to `output`; false (and `output` unchanged) when `text`
    /// is not whole groups of base64, with padding only at the end of the last.
    static func decode(_ text: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        guard text.count % 4 == 0 else { return false }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: text.count / 4 * 3))
        let written = values.withUnsafeBufferPointer { values in
            text.withUnsafeBufferPointer { text in
                output.withUnsafeMutableBufferPointer { output -> Int? in
                    var written = start
                    var read = 0
                    while read < text.count {
                        let a = values[Int(text[read])]
                        let b = values[Int(text[read + 1])]
                        let c = values[Int(text[read + 2])]
                        let d = values[Int(text[read + 3])]
                        if (a | b | c | d) & 0xC0 == 0 {
                            let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            output[written] = UInt8(truncatingIfNeeded: group >> 16)
                            output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                            output[written + 2] = UInt8(truncatingIfNeeded: group)
                            written += 3
                            read += 4
                            continue
                        }
                        // Padding only at the end of the last group, at most two characters.
                        guard read + 4 == text.count, a != 0xFF, b != 0xFF, text[read + 3] == padding else {
                            return nil
                        }
                        if text[read + 2] == padding {
                            output[written] = a << 2 | b >> 4
                            written += 1
                        } else {
                            guard c != 0xFF else { return nil }
                            output[written] = a << 2 | b >> 4
                            output[written + 1] = b << 4 | c >> 2
                            written += 2
                        }
                        read += 4
                    }
                    return written
                }
            }
        }
        guard let written else {
            output.removeSubrange(start...)
            return false
        }
        output.removeSubrange(written...)
        return true
    }
}
