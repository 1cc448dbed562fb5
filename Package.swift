// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "trakt2discovr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "trakt2discovr", targets: ["trakt2discovr"]),
        // The reader's fuzz target: replays inputs in a normal build, runs libFuzzer when built by
        // scripts/fuzz.sh (docs/fuzzing.md).
        .executable(name: "trakt2discovr-fuzz", targets: ["trakt2discovr-fuzz"]),
        // The second fuzz target: everything the client reads from a server (docs/fuzzing.md).
        .executable(name: "trakt2discovr-server-fuzz", targets: ["trakt2discovr-server-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Exact: ZipEntryReader reads ZIPFoundation's parsed central directory by reflection, which a
        // minor release may move (a test fails if it does).
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Already dependencies of the above; named because our code imports their modules directly.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "trakt2discovr",
            dependencies: [
                "TraktExport", "DiscovrAPI", "ImportPlanner", "ImportQueue", "Delivery", "DiscovrSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TraktExport",
            dependencies: ["DiscovrAPI", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: swiftSettings
        ),
        .target(name: "DiscovrAPI", swiftSettings: swiftSettings),
        .target(name: "ReaderFuzzing", dependencies: ["TraktExport", "ImportPlanner", "DiscovrAPI"], swiftSettings: swiftSettings),
        .target(name: "FuzzDriver", swiftSettings: swiftSettings),
        .executableTarget(name: "trakt2discovr-fuzz", dependencies: ["FuzzDriver", "ReaderFuzzing"], swiftSettings: swiftSettings),
        .target(name: "ServerFuzzing", dependencies: ["DiscovrAPI"], swiftSettings: swiftSettings),
        .executableTarget(name: "trakt2discovr-server-fuzz", dependencies: ["FuzzDriver", "ServerFuzzing"], swiftSettings: swiftSettings),
        .target(name: "ImportPlanner", dependencies: ["TraktExport", "DiscovrAPI"], swiftSettings: swiftSettings),
        .target(
            name: "ImportQueue",
            dependencies: ["DiscovrAPI", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Delivery",
            dependencies: [
                "DiscovrAPI", "ImportQueue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DiscovrSandbox",
            dependencies: [
                "DiscovrAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TraktExportTests",
            dependencies: ["TraktExport", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DiscovrAPITests", dependencies: ["DiscovrAPI"], swiftSettings: swiftSettings),
        .testTarget(name: "ImportPlannerTests", dependencies: ["ImportPlanner", "TraktExport", "DiscovrAPI"], swiftSettings: swiftSettings),
        .testTarget(name: "ReaderFuzzingTests", dependencies: ["ReaderFuzzing"], swiftSettings: swiftSettings),
        .testTarget(name: "ServerFuzzingTests", dependencies: ["ServerFuzzing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ImportQueueTests",
            // GRDB for the test hooks that look inside the state file (QueueInspection.swift).
            dependencies: ["ImportQueue", "DiscovrAPI", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DeliveryTests",
            dependencies: [
                "Delivery", "ImportQueue", "DiscovrAPI", "DiscovrSandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DiscovrSandboxTests",
            dependencies: [
                "DiscovrSandbox", "DiscovrAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CLITests", dependencies: [], swiftSettings: swiftSettings),
    ]
)
