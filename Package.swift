// swift-tools-version: 6.1
// Quercus: small, secure network services in Swift. docs/ARCHITECTURE.md is the map of this file.
import PackageDescription

let package = Package(
    name: "Quercus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quercus", targets: ["quercus"]),
        // Libraries are products so that the fuzz package in Fuzz/ can link them.
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "DNS", targets: ["DNS", "DNSSecurity"]),
        .library(name: "DNSServer", targets: ["DNSServer"]),
        .library(name: "DNSClient", targets: ["DNSClient"]),
        .library(name: "Resolver", targets: ["Resolver"]),
        .library(name: "ICalendar", targets: ["ICalendar"]),
        .library(name: "TLS", targets: ["TLS"]),
        .library(name: "OpenPGP", targets: ["OpenPGP"]),
        .library(name: "XML", targets: ["XML"]),
        .library(name: "DAVStore", targets: ["DAVStore"]),
        .library(name: "CalDAV", targets: ["CalDAV"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // Pure cores: no Foundation, no NIO.
        .target(name: "Wire"),
        .target(name: "Settings"),
        .target(name: "Fleet", dependencies: ["Settings"]),

        // What every SwiftNIO shell shares: listen addresses, and small HTTP endpoints for status
        // pages and metrics.
        .target(
            name: "NIOShell",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // DNS (docs/dns.md): names, records, messages, zone files; TSIG and DNSSEC need crypto.
        .target(name: "DNS", dependencies: ["Wire"]),
        .target(
            name: "DNSSecurity",
            dependencies: [
                "DNS", "Wire", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The authoritative server: answers as a pure function of zones and query (DNSServer),
        // and the SwiftNIO shell that carries it over UDP and TCP (DNSServerNIO).
        .target(name: "DNSServer", dependencies: ["DNS", "DNSSecurity", "Wire"]),
        .target(
            name: "DNSServerNIO",
            dependencies: [
                "DNSServer", "NIOShell", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The stub client (docs/dig.md): resolv.conf, queries and the answers to accept, dig's output
        // and nsupdate's commands, pure (DNSClient); the SwiftNIO shell that sends them (DNSClientNIO).
        .target(name: "DNSClient", dependencies: ["DNS", "DNSSecurity", "Wire"]),
        .target(
            name: "DNSClientNIO",
            dependencies: [
                "DNSClient", "DNS", "NIOShell", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),

        // The recursive resolver (docs/resolver.md): iteration, cache and response acceptance as a
        // pure state machine (Resolver); the SwiftNIO shell that listens and sends (ResolverNIO).
        .target(name: "Resolver", dependencies: ["DNS", "DNSSecurity", "DNSClient", "DNSServer", "Wire"]),
        .target(
            name: "ResolverNIO",
            dependencies: [
                "Resolver", "DNSClient", "NIOShell", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Calendars (docs/calendar.md): iCalendar and vCard codec, recurrence, free-busy.
        .target(name: "ICalendar", dependencies: ["Wire"]),

        // CalDAV (docs/caldav.md): a namespace-aware XML reader and writer that refuses DTDs (XML);
        // the key-value store with memory, directory and git backends (DAVStore); WebDAV, CalDAV,
        // access control and users as a pure function of request and store (CalDAV); and the
        // Hummingbird shell that carries it over HTTP, optionally through Quercus TLS.
        .target(name: "XML"),
        .target(name: "DAVStore", dependencies: ["Wire", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "CalDAV",
            dependencies: [
                "XML", "DAVStore", "ICalendar", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "CalDAVHummingbird",
            dependencies: [
                "CalDAV", "DAVStore", "TLS", "TLSNIO", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // TLS (docs/tls.md): a sans-I/O TLS 1.3/1.2 engine; primitives from swift-crypto, X.509 from
        // swift-certificates.
        .target(
            name: "TLS",
            dependencies: [
                "Wire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),

        // The TLS engine carried over a SwiftNIO channel.
        .target(name: "TLSNIO", dependencies: ["TLS", .product(name: "NIOCore", package: "swift-nio")]),
        // The Piñata (docs/pinata.md): its credentials, the record of attempts and its pages, pure.
        .target(name: "Pinata", dependencies: ["TLS"]),

        // OpenPGP (docs/openpgp.md): packets, armor, keys, signatures, encryption.
        .target(
            name: "OpenPGP",
            dependencies: [
                "Wire",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),

        // Conventions shared by every executable: version, logging, config files, error lines.
        .target(
            name: "QuercusCLI",
            dependencies: [
                "Settings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildInfo"]
        ),
        .plugin(name: "BuildInfo", capability: .buildTool()),

        // Executables: parse arguments, call a library.
        .executableTarget(
            name: "quercus",
            dependencies: ["Fleet", "QuercusCLI", .product(name: "Logging", package: "swift-log")]
        ),

        .executableTarget(
            name: "quercus-dns",
            dependencies: ["DNS", "DNSSecurity", "DNSServer", "DNSServerNIO", "NIOShell", "QuercusCLI"]),
        .executableTarget(
            name: "quercus-dig", dependencies: ["DNS", "DNSSecurity", "DNSClient", "DNSClientNIO", "QuercusCLI"]),
        .executableTarget(
            name: "quercus-resolver",
            dependencies: [
                "DNS", "DNSClient", "DNSServer", "Resolver", "ResolverNIO", "NIOShell", "QuercusCLI",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "quercus-ical", dependencies: ["ICalendar", "QuercusCLI"]),
        .executableTarget(
            name: "quercus-sop", dependencies: ["OpenPGP", "QuercusCLI"],
            // The Swift runtime linked in, not loaded, and relative relocations packed (DT_RELR,
            // glibc 2.36, lld): fewer pages to read and dirty at start, which keeps a 256 MiB run
            // under 16 MiB resident (issue 10) without giving up a position-independent executable.
            linkerSettings: [
                .unsafeFlags(
                    ["-static-stdlib", "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                    .when(platforms: [.linux])),
                .linkedLibrary("_FoundationCollections", .when(platforms: [.linux])),
                .linkedLibrary("_FoundationCShims", .when(platforms: [.linux])),
            ]),
        .executableTarget(
            name: "quercus-tls",
            dependencies: [
                "TLS", "TLSNIO", "QuercusCLI", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),

        .executableTarget(
            name: "quercus-pinata",
            dependencies: [
                "Pinata", "TLS", "TLSNIO", "NIOShell", "QuercusCLI", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "quercus-caldav",
            dependencies: [
                "CalDAV", "CalDAVHummingbird", "DAVStore", "ICalendar", "TLS", "NIOShell", "QuercusCLI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Benchmarks (`make bench`).
        .executableTarget(
            name: "quercus-bench", dependencies: ["Wire", "DNS", "ICalendar", "TLS"], path: "Benchmarks/quercus-bench"),

        // Tests.
        .target(name: "TestSupport", path: "Tests/Support"),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(
            name: "NIOShellTests",
            dependencies: [
                "NIOShell", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "QuercusCLI"]),
        .testTarget(name: "DNSTests", dependencies: ["DNS", "DNSSecurity"]),
        .testTarget(name: "DNSServerTests", dependencies: ["DNSServer", "DNS", "DNSSecurity"]),
        .testTarget(name: "DNSClientTests", dependencies: ["DNSClient", "DNS", "DNSSecurity"]),
        .testTarget(
            name: "ResolverTests", dependencies: ["Resolver", "DNSClient", "DNSServer", "DNS", "DNSSecurity"]),
        .testTarget(name: "ICalendarTests", dependencies: ["ICalendar"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS"]),
        .testTarget(name: "OpenPGPTests", dependencies: ["OpenPGP", "Wire"]),
        .testTarget(name: "PinataTests", dependencies: ["Pinata", "TLS"]),
        .testTarget(name: "XMLTests", dependencies: ["XML"]),
        .testTarget(name: "DAVStoreTests", dependencies: ["DAVStore", "Wire", "TestSupport"]),
        .testTarget(name: "CalDAVTests", dependencies: ["CalDAV", "DAVStore", "XML", "ICalendar"]),
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "TestSupport", "DNS", "DNSSecurity", "DNSClient", "DNSClientNIO", "ICalendar", "TLS", "OpenPGP", "Wire",
            ]),
    ]
)
