import DNS

/// example.com. with SOA timers 100/20/1000 (refresh/retry/expire), one NS and its address, and
/// `body` (zone-file lines relative to the origin): the zone the secondary and journal tests vary.
func exampleZone(serial: UInt32, _ body: String = "www IN A 192.0.2.1\n") throws -> Zone {
    let origin = try DomainName("example.com.")
    let text = """
        $ORIGIN example.com.
        $TTL 300
        @ IN SOA ns1 hostmaster \(serial) 100 20 1000 60
          IN NS ns1
        ns1 IN A 192.0.2.53
        \(body)
        """
    return try Zone(origin: origin, records: try ZoneParser(origin: origin).parse(text))
}
