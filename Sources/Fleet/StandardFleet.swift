/// The fleet `quercus up` runs when given no `--config`: every service that exists, on loopback,
/// with demo data. Each service issue adds its entry here.
extension FleetConfig {
    public static let standard = FleetConfig(services: [dns, resolver, pinata, caldav])

    static let dns = ServiceSpec(
        name: "dns",
        executable: "quercus-dns",
        arguments: ["serve"],
        settings: [
            "listen": .values(["127.0.0.1:5300"]),
            "zone": .values(["quercus.test={state}/quercus.test.zone"]),
        ],
        files: ["quercus.test.zone": demoZone],
        address: "127.0.0.1:5300 (UDP, TCP)",
        tryCommand: "dig @127.0.0.1 -p 5300 www.quercus.test"
    )

    static let demoZone = """
        ; The demo zone of `quercus up`: edit the copy in .quercus/dns/ to experiment, or run
        ; quercus-dns serve with your own zones.
        $ORIGIN quercus.test.
        $TTL 300
        @       IN SOA  ns1 hostmaster 1 3600 900 604800 300
                IN NS   ns1
                IN MX   10 mail
                IN TXT  "Quercus: small, secure network services in Swift"
        ns1     IN A    127.0.0.1
        mail    IN A    127.0.0.1
        www     IN CNAME web
        web     IN A    127.0.0.1
                IN AAAA ::1
        *.demo  IN TXT  "any name under demo.quercus.test is answered from a wildcard"

        """

    /// The recursive resolver, forwarding to the fleet's own quercus-dns: on a machine that reaches
    /// only loopback there is no root to iterate from (without --forward it resolves from the root).
    static let resolver = ServiceSpec(
        name: "resolver",
        executable: "quercus-resolver",
        settings: [
            "listen": .values(["127.0.0.1:5353"]),
            "forward": .values(["127.0.0.1:5300"]),
        ],
        address: "127.0.0.1:5353 (UDP, TCP)",
        tryCommand: "dig @127.0.0.1 -p 5353 www.quercus.test"
    )

    static let pinata = ServiceSpec(
        name: "pinata",
        executable: "quercus-pinata",
        settings: [
            "secret-file": .values(["{state}/secret.txt"]),
            "http": .values(["127.0.0.1:8080"]),
            "https": .values(["127.0.0.1:8443"]),
            "tls-server": .values(["127.0.0.1:10000"]),
            "tls-connect-back": .values(["127.0.0.1:10001"]),
            "tls-client": .values(["127.0.0.1:10002"]),
        ],
        files: ["secret.txt": "The demo secret of quercus up: a real Piñata guards something worth taking.\n"],
        address: "http://127.0.0.1:8080 (page), TLS 127.0.0.1:10000-10002",
        tryCommand: "curl -s http://127.0.0.1:8080/ca.pem"
    )

    /// Calendars kept in git, with a demo user whose calendar a client can be pointed at.
    static let caldav = ServiceSpec(
        name: "caldav",
        executable: "quercus-caldav",
        settings: [
            "listen": .values(["127.0.0.1:5232"]),
            "store": .values(["git:{state}/calendars.git"]),
            "admin-password-file": .values(["{state}/admin-password"]),
            "demo-user": .values(["demo:{state}/demo-password"]),
        ],
        files: ["admin-password": "quercus-admin\n", "demo-password": "demo\n"],
        address: "http://127.0.0.1:5232/calendars/demo/default/ (user demo, password demo)",
        tryCommand: "curl -s -u demo:demo -X PROPFIND -H 'Depth: 1' http://127.0.0.1:5232/calendars/demo/"
    )
}
