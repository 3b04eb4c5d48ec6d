// swift-tools-version:6.2
import PackageDescription

// Every target compiles in Swift 6 language mode with `ExistentialAny` on, so
// existential types are always spelled `any P`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "connector-receiver",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "connector-receiver", targets: ["connector-receiver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; `make` installs their -dev packages.
        // libsodium supplies the credential primitives (random bytes, keyed BLAKE2b, constant-time compare).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),

        // The libpq wrapper: connections, bound queries, row decoding, pool, migrator.
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // A private PostgreSQL cluster run by the program itself (the embedded default).
        .target(
            name: "EmbeddedPostgres",
            dependencies: [
                "Postgres",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The NIO-free HTTP/1.1 server: sockets, parser, router. Knows nothing of the domain.
        .target(
            name: "HTTPServer",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // Outbound HTTP over libcurl (client verification, later event delivery).
        .target(
            name: "OutboundHTTP",
            dependencies: ["CCurl"],
            swiftSettings: strictSettings
        ),
        // The product's rules, knowing no HTTP: models, validation, saving (one save path,
        // batched), turn-up, credentials, idempotency, sync errors, audit. Throws `ReceiverError`.
        .target(
            name: "ReceiverCore",
            dependencies: [
                "Postgres",
                "OutboundHTTP",
                "CSodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The HTTP layer over the core: /v1, /admin/v1 and ops routes; maps `ReceiverError`
        // to RFC 9457 problems in one place. Writes no SQL.
        .target(
            name: "ReceiverHTTP",
            dependencies: [
                "ReceiverCore",
                "HTTPServer",
                "Postgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "connector-receiver",
            dependencies: [
                "ReceiverHTTP",
                "ReceiverCore",
                "Postgres",
                "EmbeddedPostgres",
                "HTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // `make bench`: the JSON parser and writer against Foundation's.
        .executableTarget(
            name: "json-benchmark",
            dependencies: ["ReceiverCore"],
            swiftSettings: strictSettings
        ),

        // libFuzzer target over the HTTP/1.1 request parser (scripts/fuzz.sh, `make fuzz`);
        // in a plain debug build, a replay tool for fuzz inputs.
        .executableTarget(
            name: "RequestParserFuzzer",
            dependencies: ["HTTPServer", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Fuzz/RequestParserFuzzer",
            swiftSettings: strictSettings
        ),

        // What the test targets share: the test database, log capture, free ports, test threads.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EmbeddedPostgresTests",
            dependencies: ["EmbeddedPostgres", "Postgres", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OutboundHTTPTests",
            dependencies: ["OutboundHTTP"],
            swiftSettings: strictSettings
        ),
        // Runs the built `connector-receiver` executable: commands, embedded default, signals.
        .testTarget(
            name: "CommandLineTests",
            dependencies: ["OutboundHTTP", "Postgres", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ReceiverTests",
            dependencies: [
                "ReceiverHTTP", "ReceiverCore", "HTTPServer", "Postgres", "OutboundHTTP", "TestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
