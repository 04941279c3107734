import OpenPGP
import Testing

@Test func crc24OfTheEmptyInputIsTheInitialValue() {
    #expect(CRC24.checksum([UInt8]()) == 0xB7_04CE)
}
