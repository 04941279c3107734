// swift-tools-version: 6.1
// Quercus: small, secure network services in Swift. docs/ARCHITECTURE.md is the map of this file.
import PackageDescription

let package = Package(
    name: "Quercus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quercus", targets: ["quercus"]),
        .library(name: "Wire", targets: ["Wire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure cores: no Foundation, no NIO.
        .target(name: "Wire"),
        .target(name: "Settings"),
        .target(name: "Fleet", dependencies: ["Settings"]),

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

        // Benchmarks (`make bench`).
        .executableTarget(name: "quercus-bench", dependencies: ["Wire"], path: "Benchmarks/quercus-bench"),

        // Tests.
        .target(name: "TestSupport", path: "Tests/Support"),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "FleetTests", dependencies: ["Fleet"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "QuercusCLI"]),
        .testTarget(name: "InteropTests", dependencies: ["TestSupport"]),
    ]
)
