import Testing
import Wire

@Suite struct WireReaderTests {
    @Test func readsBigEndianFieldsInOrder() throws {
        var reader = WireReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A])
        #expect(try reader.readUInt8() == 0x01)
        #expect(try reader.readUInt16() == 0x0203)
        #expect(try reader.readUInt24() == 0x04_0506)
        #expect(try reader.readUInt32() == 0x0708_090A)
        #expect(reader.isAtEnd)
        #expect(reader.offset == 10)
    }

    @Test func readsWideAndLittleEndianFields() throws {
        var reader = WireReader([0, 0, 0x65, 0x00, 0x00, 0x01] + [1, 2, 3, 4, 5, 6, 7, 8] + [0x78, 0x56, 0x34, 0x12])
        #expect(try reader.readUInt48() == 0x6500_0001)
        #expect(try reader.readUInt64() == 0x0102_0304_0506_0708)
        #expect(try reader.readLittleEndian(UInt32.self) == 0x1234_5678)
    }

    @Test func truncationNamesTheOffsetAndWhatWasMissing() throws {
        var reader = WireReader([0xAA, 0xBB, 0xCC])
        _ = try reader.readUInt16()
        #expect(throws: WireError(offset: 2, kind: .truncated(needed: 4, available: 1))) {
            try reader.readUInt32()
        }
        // A failed read leaves the reader where it was.
        #expect(reader.offset == 2)
        #expect(try reader.readUInt8() == 0xCC)
        #expect(throws: WireError(offset: 3, kind: .truncated(needed: 1, available: 0))) {
            try reader.readUInt8()
        }
        #expect(throws: WireError(offset: 3, kind: .truncated(needed: 1, available: 0))) {
            try reader.peekUInt8()
        }
    }

    @Test func everyIntegerWidthReportsTruncation() {
        let empty = WireReader([])
        func truncated(_ needed: Int) -> WireError {
            WireError(offset: 0, kind: .truncated(needed: needed, available: 0))
        }
        var reader = empty
        #expect(throws: truncated(2)) { try reader.readUInt16() }
        #expect(throws: truncated(3)) { try reader.readUInt24() }
        #expect(throws: truncated(4)) { try reader.readUInt32() }
        #expect(throws: truncated(6)) { try reader.readUInt48() }
        #expect(throws: truncated(8)) { try reader.readUInt64() }
        #expect(throws: truncated(2)) { try reader.readLittleEndian(UInt16.self) }
        #expect(throws: truncated(5)) { try reader.readBytes(5) }
        #expect(throws: truncated(1)) { try reader.skip(1) }
    }

    @Test func negativeCountsAreRejectedNotTrapped() {
        var reader = WireReader([1, 2, 3])
        #expect(throws: WireError(offset: 0, kind: .truncated(needed: -1, available: 3))) { try reader.readBytes(-1) }
        #expect(throws: WireError(offset: 0, kind: .truncated(needed: -5, available: 3))) { try reader.skip(-5) }
        #expect(throws: WireError(offset: 0, kind: .truncated(needed: -2, available: 3))) {
            try reader.readSubReader(length: -2)
        }
        #expect(reader.offset == 0)
    }

    @Test func bytesAreSlicesOfTheInput() throws {
        var reader = WireReader([9, 8, 7, 6, 5])
        try reader.skip(1)
        #expect(Array(try reader.readBytes(3)) == [8, 7, 6])
        #expect(Array(reader.readRemainingBytes()) == [5])
        #expect(reader.isAtEnd)
        #expect(reader.readRemainingBytes().isEmpty)
    }

    @Test func lengthPrefixedBodiesCannotReadPastTheirEnd() throws {
        // [len=2][0xAB 0xCD][0xEF]
        var reader = WireReader([0x00, 0x02, 0xAB, 0xCD, 0xEF])
        var body = try reader.readLengthPrefixed(.uint16)
        #expect(body.offset == 2)
        #expect(body.end == 4)
        #expect(try body.readUInt8() == 0xAB)
        // The byte after the body (0xEF) is not visible to the body reader.
        #expect(throws: WireError(offset: 3, kind: .truncated(needed: 2, available: 1))) { try body.readUInt16() }
        #expect(try body.readUInt8() == 0xCD)
        try body.expectEnd()
        #expect(try reader.readUInt8() == 0xEF)
    }

    @Test func aLengthLongerThanTheInputFailsAndDoesNotMove() {
        var reader = WireReader([0x05, 0x01, 0x02])
        #expect(throws: WireError(offset: 1, kind: .truncated(needed: 5, available: 2))) {
            try reader.readLengthPrefixed(.uint8)
        }
        #expect(reader.offset == 0)
    }

    @Test func everyLengthWidthIsBigEndian() throws {
        for width in LengthWidth.allCases {
            var writer = WireWriter()
            let mark = writer.beginLength(width)
            writer.write(bytes: [1, 2, 3])
            try writer.endLength(mark)
            #expect(writer.bytes == Array(repeating: 0, count: width.rawValue - 1) + [3, 1, 2, 3])
            var reader = WireReader(writer.bytes)
            var body = try reader.readLengthPrefixed(width)
            #expect(Array(body.readRemainingBytes()) == [1, 2, 3])
        }
    }

    @Test func trailingBytesAreReportedWhereTheyStart() throws {
        var reader = WireReader([1, 2, 3])
        _ = try reader.readUInt8()
        #expect(throws: WireError(offset: 1, kind: .trailingBytes(count: 2))) { try reader.expectEnd() }
    }

    @Test func protocolErrorsCarryTheCurrentOffset() throws {
        var reader = WireReader([0, 0, 0])
        try reader.skip(2)
        let error = reader.invalid("label longer than 63 octets")
        #expect(error == WireError(offset: 2, kind: .invalid("label longer than 63 octets")))
        #expect(error.description == "invalid input at offset 2: label longer than 63 octets")
    }

    @Test func absoluteRepositioningIsBoundsChecked() throws {
        var reader = WireReader([0xC0, 0x00, 0x07])
        try reader.skip(2)
        var earlier = try reader.reader(atAbsoluteOffset: 0)
        #expect(try earlier.readUInt8() == 0xC0)
        #expect(throws: WireError(offset: 2, kind: .invalid("offset 3 is outside the input"))) {
            try reader.reader(atAbsoluteOffset: 3)
        }
        #expect(throws: WireError(offset: 2, kind: .invalid("offset -1 is outside the input"))) {
            try reader.reader(atAbsoluteOffset: -1)
        }
    }

    @Test func errorDescriptionsAreOneReadableLine() {
        #expect(
            WireError(offset: 7, kind: .truncated(needed: 4, available: 1)).description
                == "truncated at offset 7: needed 4 bytes, 1 available")
        #expect(
            WireError(offset: 3, kind: .trailingBytes(count: 2)).description
                == "2 unexpected trailing bytes at offset 3")
        #expect(
            WireError(offset: 0, kind: .lengthTooLarge(length: 300, limit: 255)).description
                == "length 300 at offset 0 exceeds the limit of 255")
    }
}

@Suite struct WireWriterTests {
    @Test func writesBigEndianFields() {
        var writer = WireWriter()
        writer.write(UInt8(0x01))
        writer.write(UInt16(0x0203))
        writer.writeUInt24(0x04_0506)
        writer.write(UInt32(0x0708_090A))
        writer.writeUInt48(0x0B0C_0D0E_0F10)
        writer.write(UInt64(0x1112_1314_1516_1718))
        writer.writeLittleEndian(UInt16(0x2019))
        #expect(writer.bytes == Array(1...0x18) + [0x19, 0x20])
        #expect(writer.count == 26)
    }

    @Test func aBodyTooLongForItsPrefixIsAnErrorNotATruncation() {
        var writer = WireWriter()
        writer.write(UInt8(0xFF))
        let mark = writer.beginLength(.uint8)
        writer.write(bytes: [UInt8](repeating: 7, count: 256))
        #expect(throws: WireError(offset: 1, kind: .lengthTooLarge(length: 256, limit: 255))) {
            try writer.endLength(mark)
        }
    }

    @Test func nestedLengthsAreFilledInnermostFirst() throws {
        var writer = WireWriter()
        let outer = writer.beginLength(.uint16)
        writer.write(UInt8(0xAA))
        let inner = writer.beginLength(.uint8)
        writer.write(bytes: [1, 2])
        try writer.endLength(inner)
        try writer.endLength(outer)
        #expect(writer.bytes == [0x00, 0x04, 0xAA, 0x02, 1, 2])
    }

    @Test func patchingCountsIsBoundsChecked() throws {
        var writer = WireWriter()
        writer.write(UInt32(0))
        try writer.setUInt16(0xBEEF, at: 2)
        #expect(writer.bytes == [0, 0, 0xBE, 0xEF])
        #expect(throws: WireError(offset: 3, kind: .truncated(needed: 2, available: 1))) {
            try writer.setUInt16(1, at: 3)
        }
        #expect(throws: WireError(offset: -1, kind: .truncated(needed: 2, available: 5))) {
            try writer.setUInt16(1, at: -1)
        }
    }

    @Test func readerAndWriterRoundTripEveryWidth() throws {
        var writer = WireWriter()
        let values: [UInt64] = [0, 1, 0x7F, 0xFF, 0x1234, 0xFFFF, 0xAB_CDEF, 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF, .max]
        for value in values {
            writer.write(UInt8(truncatingIfNeeded: value))
            writer.write(UInt16(truncatingIfNeeded: value))
            writer.writeUInt24(UInt32(truncatingIfNeeded: value & 0xFF_FFFF))
            writer.write(UInt32(truncatingIfNeeded: value))
            writer.writeUInt48(value & 0xFFFF_FFFF_FFFF)
            writer.write(value)
        }
        var reader = WireReader(writer.bytes)
        for value in values {
            #expect(try reader.readUInt8() == UInt8(truncatingIfNeeded: value))
            #expect(try reader.readUInt16() == UInt16(truncatingIfNeeded: value))
            #expect(try reader.readUInt24() == UInt32(truncatingIfNeeded: value & 0xFF_FFFF))
            #expect(try reader.readUInt32() == UInt32(truncatingIfNeeded: value))
            #expect(try reader.readUInt48() == value & 0xFFFF_FFFF_FFFF)
            #expect(try reader.readUInt64() == value)
        }
        try reader.expectEnd()
    }
}
