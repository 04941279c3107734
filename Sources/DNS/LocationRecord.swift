import Wire

/// LOC (RFC 1876): a position on the globe with its precision.
public struct LOCRecord: RecordData {
    public static let type = RecordType.loc
    /// Diameter and precisions, each a mantissa (high nibble) times ten to an exponent (low nibble) centimetres.
    public var size: UInt8
    public var horizontalPrecision: UInt8
    public var verticalPrecision: UInt8
    /// Thousandths of an arc second, offset by 2^31 (the equator, the prime meridian).
    public var latitude: UInt32
    public var longitude: UInt32
    /// Centimetres above a base 100,000 m below the reference spheroid.
    public var altitude: UInt32

    static let equator: UInt32 = 1 << 31
    static let altitudeBase: Int64 = 10_000_000

    public init(
        size: UInt8, horizontalPrecision: UInt8, verticalPrecision: UInt8, latitude: UInt32, longitude: UInt32,
        altitude: UInt32
    ) {
        self.size = size
        self.horizontalPrecision = horizontalPrecision
        self.verticalPrecision = verticalPrecision
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        let version = try reader.readUInt8()
        guard version == 0 else { throw reader.invalid("LOC version \(version) (only 0 exists)") }
        size = try reader.readUInt8()
        horizontalPrecision = try reader.readUInt8()
        verticalPrecision = try reader.readUInt8()
        for value in [size, horizontalPrecision, verticalPrecision] where value >> 4 > 9 || value & 0xF > 9 {
            throw reader.invalid("LOC precision digit above 9")
        }
        // Zero times any power of ten is zero: keep one form, the one presentation format reads back.
        size = Self.normalized(size)
        horizontalPrecision = Self.normalized(horizontalPrecision)
        verticalPrecision = Self.normalized(verticalPrecision)
        latitude = try reader.readUInt32()
        longitude = try reader.readUInt32()
        altitude = try reader.readUInt32()
        // Beyond the poles or past 180 degrees has no presentation form; BIND refuses it too.
        guard abs(Int64(latitude) - Int64(Self.equator)) <= 90 * 3_600_000,
            abs(Int64(longitude) - Int64(Self.equator)) <= 180 * 3_600_000
        else { throw reader.invalid("LOC position beyond 90 degrees latitude or 180 longitude") }
    }

    private static func normalized(_ precision: UInt8) -> UInt8 { precision >> 4 == 0 ? 0 : precision }

    public func encode(into writer: inout MessageWriter) throws(WireError) {
        writer.write(UInt8(0))
        writer.write(size)
        writer.write(horizontalPrecision)
        writer.write(verticalPrecision)
        writer.write(latitude)
        writer.write(longitude)
        writer.write(altitude)
    }

    public init(presentation scanner: inout RDataScanner) throws(PresentationError) {
        latitude = try Self.parseAngle(&scanner, hemispheres: ("N", "S"), maximumDegrees: 90)
        longitude = try Self.parseAngle(&scanner, hemispheres: ("E", "W"), maximumDegrees: 180)
        let altitudeToken = try scanner.next("the altitude")
        guard let centimetres = Self.parseMetres(altitudeToken.string, allowNegative: true),
            let encoded = UInt32(exactly: centimetres + Self.altitudeBase)
        else { throw scanner.error("expected the altitude in metres", at: altitudeToken) }
        altitude = encoded
        size = try Self.parsePrecision(&scanner, "the size", default: 0x12)
        horizontalPrecision = try Self.parsePrecision(&scanner, "the horizontal precision", default: 0x16)
        verticalPrecision = try Self.parsePrecision(&scanner, "the vertical precision", default: 0x13)
    }

    private static func parseAngle(
        _ scanner: inout RDataScanner, hemispheres: (String, String), maximumDegrees: Int64
    ) throws(PresentationError) -> UInt32 {
        var parts: [String] = []
        var hemisphere: String? = nil
        while hemisphere == nil {
            let token = try scanner.next("\(hemispheres.0) or \(hemispheres.1)")
            let upper = token.string.uppercased()
            if upper == hemispheres.0 || upper == hemispheres.1 {
                hemisphere = upper
            } else {
                guard parts.count < 3 else {
                    throw scanner.error("expected \(hemispheres.0) or \(hemispheres.1)", at: token)
                }
                parts.append(token.string)
            }
        }
        guard !parts.isEmpty, let degrees = Int64(parts[0]), (0...maximumDegrees).contains(degrees) else {
            throw scanner.error("expected degrees from 0 to \(maximumDegrees)")
        }
        var minutes: Int64 = 0
        var milliseconds: Int64 = 0
        if parts.count > 1 {
            guard let value = Int64(parts[1]), (0..<60).contains(value) else {
                throw scanner.error("expected minutes from 0 to 59")
            }
            minutes = value
        }
        if parts.count > 2 {
            guard let value = parseDecimal(parts[2], fractionDigits: 3), (0..<60_000).contains(value) else {
                throw scanner.error("expected seconds from 0 to 59.999")
            }
            milliseconds = value
        }
        let total = ((degrees * 60 + minutes) * 60) * 1000 + milliseconds
        guard total <= maximumDegrees * 3_600_000 else { throw scanner.error("angle beyond \(maximumDegrees) degrees") }
        let signed = hemisphere == hemispheres.0 ? total : -total
        return UInt32(truncatingIfNeeded: Int64(equator) + signed)
    }

    private static func parsePrecision(_ scanner: inout RDataScanner, _ what: String, default value: UInt8)
        throws(PresentationError) -> UInt8
    {
        guard let token = scanner.peek() else { return value }
        _ = try scanner.next(what)
        guard var centimetres = parseMetres(token.string, allowNegative: false), centimetres <= 9_000_000_000 else {
            throw scanner.error("expected \(what) in metres", at: token)
        }
        var exponent: UInt8 = 0
        while centimetres >= 10 {
            centimetres /= 10
            exponent += 1
        }
        return UInt8(centimetres) << 4 | exponent
    }

    /// "12.34m" or "12" as centimetres.
    static func parseMetres(_ text: String, allowNegative: Bool) -> Int64? {
        var body = Substring(text)
        if body.hasSuffix("m") || body.hasSuffix("M") { body = body.dropLast() }
        var negative = false
        if body.hasPrefix("-") {
            guard allowNegative else { return nil }
            negative = true
            body = body.dropFirst()
        }
        guard let value = parseDecimal(String(body), fractionDigits: 2) else { return nil }
        return negative ? -value : value
    }

    public var presentation: String {
        "\(Self.formatAngle(latitude, hemispheres: ("N", "S"))) \(Self.formatAngle(longitude, hemispheres: ("E", "W"))) "
            + "\(formatAltitude) \(Self.formatPrecision(size)) \(Self.formatPrecision(horizontalPrecision)) "
            + "\(Self.formatPrecision(verticalPrecision))"
    }
    public var rdata: RData { .loc(self) }
    public static func extract(_ rdata: RData) -> Self? { if case .loc(let value) = rdata { value } else { nil } }

    private static func formatAngle(_ value: UInt32, hemispheres: (String, String)) -> String {
        let signed = Int64(value) - Int64(equator)
        let magnitude = abs(signed)
        let milliseconds = magnitude % 1000
        let seconds = magnitude / 1000 % 60
        let minutes = magnitude / 60_000 % 60
        let degrees = magnitude / 3_600_000
        return
            "\(degrees) \(minutes) \(seconds).\(padded(milliseconds, 3)) \(signed >= 0 ? hemispheres.0 : hemispheres.1)"
    }

    private var formatAltitude: String {
        let centimetres = Int64(altitude) - Self.altitudeBase
        let magnitude = abs(centimetres)
        return "\(centimetres < 0 ? "-" : "")\(magnitude / 100).\(padded(magnitude % 100, 2))m"
    }

    private static func formatPrecision(_ value: UInt8) -> String {
        let mantissa = Int64(value >> 4)
        let exponent = Int(value & 0xF)
        if exponent > 1 {
            return "\(mantissa * power(10, exponent - 2))m"
        }
        return "0.\(padded(mantissa * power(10, exponent), 2))m"
    }
}

private func power(_ base: Int64, _ exponent: Int) -> Int64 {
    (0..<max(0, exponent)).reduce(1) { result, _ in result * base }
}

private func padded(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// A non-negative decimal with at most `fractionDigits` digits after the point, scaled to an integer.
func parseDecimal(_ text: String, fractionDigits: Int) -> Int64? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
        parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let whole = Int64(parts[0])
    else { return nil }
    var fraction: Int64 = 0
    if parts.count == 2 {
        let digits = parts[1]
        guard digits.count <= fractionDigits, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        fraction = (Int64(digits) ?? 0) * power(10, fractionDigits - digits.count)
    }
    return whole * power(10, fractionDigits) + fraction
}
