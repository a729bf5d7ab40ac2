// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "rapport",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rapport", targets: ["rapport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ", pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        // Cryptography is OpenSSL's, behind RapportSupport/Crypto.swift: no primitive is written here.
        .systemLibrary(
            name: "CLibCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]),
        // rabbitmq-c's timeval comes through CDispatch on Linux, which MemberImportVisibility rejects.
        .target(
            name: "RapportAMQP", dependencies: ["CRabbitMQ"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
        .target(name: "RapportSupport", dependencies: ["CLibCrypto"], swiftSettings: swiftSettings),
        .target(name: "RapportPostgres", dependencies: ["CLibPQ", "RapportSupport"], swiftSettings: swiftSettings),
        // Generated data, in a target of its own: compiled once, and the domain reads as logic.
        .target(
            name: "RapportChineseData", exclude: ["README.md", "gen_chinese_tables.py"], swiftSettings: swiftSettings),
        .target(name: "RapportCore", dependencies: ["RapportSupport", "RapportChineseData"], swiftSettings: swiftSettings),
        // zlib for the .xlsx reader (Sources/RapportDecoding/Import); the module map lives beside its only user.
        .systemLibrary(
            name: "CZlib", path: "Sources/RapportDecoding/Import/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "RapportDecoding", dependencies: ["RapportCore", "RapportSupport", "CZlib"],
            exclude: ["Import/CZlib"], swiftSettings: swiftSettings),
        .target(
            name: "RapportStore", dependencies: ["RapportCore", "RapportSupport", "RapportPostgres"],
            resources: [.copy("Migrations")], swiftSettings: swiftSettings),
        .target(
            name: "RapportRuntime",
            dependencies: [
                "RapportAMQP", "RapportPostgres", "RapportCore", "RapportSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "RapportMonitor",
            dependencies: [
                "RapportRuntime", "RapportAMQP", "RapportPostgres", "RapportSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "RapportServices",
            dependencies: [
                "RapportRuntime", "RapportStore", "RapportDecoding", "RapportMonitor", "RapportCore", "RapportSupport",
                "RapportAMQP", "RapportPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "RapportAdmin",
            dependencies: [
                "RapportRuntime", "RapportStore", "RapportDecoding", "RapportCore", "RapportSupport", "RapportAMQP",
                "RapportPostgres",
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "RapportTesting",
            dependencies: [
                "RapportServices", "RapportRuntime", "RapportStore", "RapportCore", "RapportSupport", "RapportAMQP",
                "RapportPostgres",
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "rapport",
            dependencies: [
                "RapportServices", "RapportMonitor", "RapportAdmin", "RapportTesting", "RapportRuntime", "RapportStore",
                "RapportDecoding", "RapportCore", "RapportSupport", "RapportAMQP", "RapportPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "rapport-bench",
            dependencies: [
                "RapportServices", "RapportRuntime", "RapportStore", "RapportDecoding", "RapportTesting", "RapportCore",
                "RapportSupport", "RapportAMQP", "RapportPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/rapport-bench",
            swiftSettings: swiftSettings),
        // Unit tests: no servers.
        .testTarget(name: "RapportSupportTests", dependencies: ["RapportSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RapportCoreTests", dependencies: ["RapportCore", "RapportSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RapportDecodingTests", dependencies: ["RapportDecoding", "RapportCore", "RapportSupport", "RapportRuntime"],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "RapportPostgresTests", dependencies: ["RapportPostgres"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RapportRuntimeTests", dependencies: ["RapportRuntime", "RapportCore", "RapportSupport", "RapportAMQP", "RapportPostgres"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RapportServicesTests", dependencies: ["RapportServices", "RapportStore", "RapportRuntime", "RapportMonitor", "RapportAMQP", "RapportSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RapportMonitorTests", dependencies: ["RapportMonitor", "RapportSupport"], resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings),
        // Against a live RabbitMQ and PostgreSQL (ops/test starts them).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "RapportTesting", "RapportServices", "RapportMonitor", "RapportAdmin", "RapportRuntime", "RapportStore",
                "RapportDecoding", "RapportCore", "RapportSupport", "RapportAMQP", "RapportPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
    ]
)
