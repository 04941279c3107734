/// The 24-bit cyclic redundancy check of ASCII armor (RFC 9580 section 6.1).
public enum CRC24 {
    private static let initial: UInt32 = 0xB7_04CE
    private static let polynomial: UInt32 = 0x186_4CFB

    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte) << 16
        for _ in 0..<8 {
            crc <<= 1
            if crc & 0x100_0000 != 0 { crc ^= polynomial }
        }
        return crc & 0xFF_FFFF
    }

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        update(initial, with: bytes)
    }

    /// Continues a checksum over more bytes; start from `checksum([])`.
    static func update<Bytes: Sequence>(_ crc: UInt32, with bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = crc
        for byte in bytes {
            let index = Int(((crc >> 16) ^ UInt32(byte)) & 0xFF)
            crc = ((crc << 8) ^ table[index]) & 0xFF_FFFF
        }
        return crc
    }
}
