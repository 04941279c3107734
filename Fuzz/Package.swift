// swift-tools-version: 6.1
// libFuzzer harnesses, one executable each, built only by `scripts/fuzz` with AddressSanitizer,
// coverage instrumentation and libFuzzer's runtime (each harness hands libFuzzer its test from
// its own entry point, which is why they live outside the main package: a plain `swift build`
// could not link them).
import PackageDescription

let package = Package(
    name: "QuercusFuzz",
    dependencies: [.package(name: "Quercus", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "fuzz-wire-reader", dependencies: ["FuzzSupport", .product(name: "Wire", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-dns-message", dependencies: ["FuzzSupport", .product(name: "DNS", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-dns-server",
            dependencies: [
                "FuzzSupport", .product(name: "DNS", package: "Quercus"),
                .product(name: "DNSServer", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-dns-transfer",
            dependencies: [
                "FuzzSupport", .product(name: "DNS", package: "Quercus"),
                .product(name: "DNSServer", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-dns-update",
            dependencies: [
                "FuzzSupport", .product(name: "DNS", package: "Quercus"),
                .product(name: "DNSServer", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-dns-zone", dependencies: ["FuzzSupport", .product(name: "DNS", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-dns-resolv-conf",
            dependencies: ["FuzzSupport", .product(name: "DNSClient", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-dig-arguments", dependencies: ["FuzzSupport", .product(name: "DNSClient", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-dns-update-script",
            dependencies: [
                "FuzzSupport", .product(name: "DNSClient", package: "Quercus"),
                .product(name: "DNS", package: "Quercus"), .product(name: "Wire", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-resolver",
            dependencies: [
                "FuzzSupport", .product(name: "Resolver", package: "Quercus"),
                .product(name: "DNS", package: "Quercus"), .product(name: "DNSClient", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-openpgp-message", dependencies: ["FuzzSupport", .product(name: "OpenPGP", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-openpgp-stream",
            dependencies: [
                "FuzzSupport", .product(name: "OpenPGP", package: "Quercus"),
                .product(name: "Wire", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-openpgp-packets", dependencies: ["FuzzSupport", .product(name: "OpenPGP", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-tls-engine", dependencies: ["FuzzSupport", .product(name: "TLS", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-icalendar-parser",
            dependencies: ["FuzzSupport", .product(name: "ICalendar", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-icalendar-recurrence",
            dependencies: ["FuzzSupport", .product(name: "ICalendar", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-xml", dependencies: ["FuzzSupport", .product(name: "XML", package: "Quercus")]),
        .executableTarget(
            name: "fuzz-caldav",
            dependencies: [
                "FuzzSupport", .product(name: "CalDAV", package: "Quercus"),
                .product(name: "DAVStore", package: "Quercus"), .product(name: "ICalendar", package: "Quercus"),
            ]),
        .executableTarget(
            name: "fuzz-git-objects",
            dependencies: [
                "FuzzSupport", .product(name: "DAVStore", package: "Quercus"),
                .product(name: "Wire", package: "Quercus"),
            ]),
    ]
)
