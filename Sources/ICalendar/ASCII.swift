/// Case-insensitive name comparisons without allocating.
///
/// Property, parameter and component names are compared with `uppercased() ==`, which allocates
/// a string per comparison and ran on every lookup. These helpers give the same answers: for
/// ASCII text they compare bytes, and whenever a non-ASCII byte could matter (`ı` uppercases to
/// `I`, `ß` to `SS`, and `==` on strings is canonical equivalence) they fall back to the
/// Unicode comparison itself.
extension String {
    /// `uppercased() == upper`.
    func uppercasedEquals(_ upper: String) -> Bool {
        compareUppercased(upper) { $0 } ?? (uppercased() == upper)
    }

    /// `uppercased() == other.uppercased()`.
    func uppercasedEquals(uppercasedOf other: String) -> Bool {
        compareUppercased(other, asciiUppercased) ?? (uppercased() == other.uppercased())
    }

    /// Compares the UTF-8 bytes of both strings, this one upper-cased and `other`'s through
    /// `map`, and returns nil when non-ASCII text makes bytes unable to decide. Reads the
    /// strings' storage in place (names are short, mostly inline): iterating `utf8` costs several
    /// times as much per byte, and lookups compare names all the time.
    private func compareUppercased(_ other: String, _ map: (UInt8) -> UInt8) -> Bool? {
        let mine = utf8.span
        let theirs = other.utf8.span
        let common = Swift.min(mine.count, theirs.count)
        var index = 0
        while index < common {
            let byte = mine[index]
            let otherByte = theirs[index]
            if byte >= 0x80 || otherByte >= 0x80 { return nil }
            // Both prefixes so far are ASCII and line up, and an ASCII character is a starter
            // that nothing after it can turn into another letter: a mismatch here is final.
            if asciiUppercased(byte) != map(otherByte) { return false }
            index += 1
        }
        // Every character uppercases to at least one character, so extra text never compares
        // equal; only a non-ASCII tail (a combining mark) needs Unicode's word.
        let tail = mine.count > common ? mine[common] : theirs.count > common ? theirs[common] : nil
        guard let tail else { return true }
        return tail < 0x80 ? false : nil
    }

    /// `trimmedSpaces` without a copy when there is nothing to trim, the usual case.
    var trimmedSpaces: String {
        if let first = utf8.first, let last = utf8.last, first != 0x20, first != 0x09, last != 0x20, last != 0x09 {
            return self
        }
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

@inline(__always)
func asciiUppercased(_ byte: UInt8) -> UInt8 {
    byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
}

/// Byte searches over a string's storage in place. Iterating `utf8` goes through the string's
/// representation for every byte and cost tens of instructions a byte, on values and names
/// looked at for every property printed and every event expanded.
extension String {
    func containsByte(_ byte: UInt8) -> Bool { utf8.span.containsByte(byte) }

    func containsByte(where predicate: (UInt8) -> Bool) -> Bool { utf8.span.containsByte(where: predicate) }
}

extension Substring {
    func containsByte(_ byte: UInt8) -> Bool { utf8.span.containsByte(byte) }

    var isASCII: Bool { !utf8.span.containsByte { $0 >= 0x80 } }
}

extension Span<UInt8> {
    func containsByte(_ byte: UInt8) -> Bool { containsByte { $0 == byte } }

    func containsByte(where predicate: (UInt8) -> Bool) -> Bool {
        var index = 0
        while index < count {
            if predicate(self[index]) { return true }
            index += 1
        }
        return false
    }
}

extension StringProtocol where SubSequence == Substring {
    /// `split(separator:maxSplits:omittingEmptySubsequences:)` for an ASCII separator, cutting at
    /// bytes when the text is ASCII: there bytes and characters coincide (CR LF, the one
    /// two-byte character, contains no separator used here), and splitting by characters cost
    /// thousands of instructions for a short RRULE. Other text is split by characters.
    func splitASCII(
        separator: Character, maxSplits: Int = .max, omittingEmptySubsequences: Bool = true
    ) -> [Substring] {
        guard let byte = separator.asciiValue, !utf8.contains(where: { $0 >= 0x80 }) else {
            return split(
                separator: separator, maxSplits: maxSplits, omittingEmptySubsequences: omittingEmptySubsequences)
        }
        // The standard library's algorithm, over UTF-8 positions.
        var result: [Substring] = []
        var start = startIndex
        func append(upTo end: String.Index) -> Bool {
            if start == end && omittingEmptySubsequences { return false }
            result.append(self[start..<end])
            return true
        }
        if maxSplits == 0 || isEmpty {
            _ = append(upTo: endIndex)
            return result
        }
        var end = start
        while end != endIndex {
            if utf8[end] == byte {
                let appended = append(upTo: end)
                end = utf8.index(after: end)
                start = end
                if appended && result.count == maxSplits { break }
                continue
            }
            end = utf8.index(after: end)
        }
        if start != endIndex || !omittingEmptySubsequences { result.append(self[start..<endIndex]) }
        return result
    }
}
