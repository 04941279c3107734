/// The 24-bit cyclic redundancy check of ASCII armor (RFC 9580 section 6.1).
public enum CRC24 {
    private static let initial: UInt32 = 0xB7_04CE
    private static let polynomial: UInt32 = 0x186_4CFB

    /// Eight tables of 256 (slicing by eight), the register kept in the top 24 bits of a word:
    /// table k gives the effect of a byte followed by k zero bytes, so eight input bytes take
    /// eight independent lookups instead of a chain of eight.
    private static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte) << 24
            for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? crc << 1 ^ polynomial << 8 : crc << 1 }
            tables[byte] = crc
        }
        for table in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(table - 1) * 256 + byte]
                tables[table * 256 + byte] = previous << 8 ^ tables[Int(previous >> 24)]
            }
        }
        return tables
    }()

    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        update(initial, with: Array(bytes)[...])
    }

    /// Continues a checksum over more bytes; start from `checksum([])`.
    static func update(_ crc: UInt32, with bytes: ArraySlice<UInt8>) -> UInt32 {
        tables.withUnsafeBufferPointer { tables in
            bytes.withUnsafeBufferPointer { bytes in
                var register = crc << 8
                var index = 0
                while index + 8 <= bytes.count {
                    let high =
                        register
                        ^ (UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8
                            | UInt32(bytes[index + 3]))
                    register =
                        tables[7 * 256 + Int(high >> 24)] ^ tables[6 * 256 + Int(high >> 16 & 0xFF)]
                        ^ tables[5 * 256 + Int(high >> 8 & 0xFF)] ^ tables[4 * 256 + Int(high & 0xFF)]
                        ^ tables[3 * 256 + Int(bytes[index + 4])] ^ tables[2 * 256 + Int(bytes[index + 5])]
                        ^ tables[256 + Int(bytes[index + 6])] ^ tables[Int(bytes[index + 7])]
                    index += 8
                }
                while index < bytes.count {
                    register = register << 8 ^ tables[Int(UInt8(truncatingIfNeeded: register >> 24) ^ bytes[index])]
                    index += 1
                }
                return register >> 8
            }
        }
    }
}
