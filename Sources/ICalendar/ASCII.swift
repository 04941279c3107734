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
        var mine = utf8.makeIterator()
        var theirs = upper.utf8.makeIterator()
        while true {
            switch (mine.next(), theirs.next()) {
            case (nil, nil):
                return true
            case (let byte?, let other?):
                if byte >= 0x80 || other >= 0x80 { return uppercased() == upper }
                // Both prefixes so far are ASCII and line up, and an ASCII character is a
                // starter that nothing after it can change into another letter: a mismatch
                // here is final.
                if asciiUppercased(byte) != other { return false }
            case (let byte?, nil):
                // Every character uppercases to at least one character, so extra text never
                // compares equal; only a non-ASCII tail (a combining mark) needs Unicode's word.
                return byte < 0x80 ? false : uppercased() == upper
            case (nil, let other?):
                return other < 0x80 ? false : uppercased() == upper
            }
        }
    }

    /// `uppercased() == other.uppercased()`.
    func uppercasedEquals(uppercasedOf other: String) -> Bool {
        var mine = utf8.makeIterator()
        var theirs = other.utf8.makeIterator()
        while true {
            switch (mine.next(), theirs.next()) {
            case (nil, nil):
                return true
            case (let byte?, let otherByte?):
                if byte >= 0x80 || otherByte >= 0x80 { return uppercased() == other.uppercased() }
                if asciiUppercased(byte) != asciiUppercased(otherByte) { return false }
            case (let byte?, nil):
                return byte < 0x80 ? false : uppercased() == other.uppercased()
            case (nil, let otherByte?):
                return otherByte < 0x80 ? false : uppercased() == other.uppercased()
            }
        }
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
