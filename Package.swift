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
        // rabbitmq-c's timeval comes through CDispatch on Linux, which MemberImportVisibility rejects.
        .target(
            name: "RapportAMQP", dependencies: ["CRabbitMQ"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
        .target(name: "RapportPostgres", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        .target(name: "RapportCore", swiftSettings: swiftSettings),
        // zlib for the .xlsx reader (Sources/Connectors/Import); the module map lives beside its only user.
        .systemLibrary(
            name: "CZlib", path: "Sources/Connectors/Import/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(name: "Connectors", dependencies: ["RapportCore", "CZlib"], swiftSettings: swiftSettings),
        .target(
            name: "Workers",
            dependencies: [
                "RapportAMQP", "RapportPostgres", "RapportCore", "Connectors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings),
        .target(
            name: "Monitor",
            dependencies: [
                "Workers", "RapportCore", "RapportAMQP", "RapportPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "rapport",
            dependencies: [
                "Workers", "Monitor", "RapportCore", "RapportAMQP", "RapportPostgres", "Connectors",
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
                "Workers", "RapportCore", "RapportAMQP", "RapportPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/rapport-bench",
            swiftSettings: swiftSettings),
        .testTarget(name: "RapportCoreTests", dependencies: ["RapportCore"], swiftSettings: swiftSettings),
        .testTarget(name: "ConnectorsTests", dependencies: ["Connectors", "RapportCore"], swiftSettings: swiftSettings),
        .testTarget(name: "MonitorTests", dependencies: ["Monitor", "RapportCore"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Workers", "Monitor", "RapportAMQP", "RapportPostgres", "RapportCore", "Connectors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
    ]
)
