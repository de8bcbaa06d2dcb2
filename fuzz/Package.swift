// swift-tools-version:6.2
// Coverage-guided fuzz targets (libFuzzer), one per parser that reads untrusted input. Not part of the main
// build: bench/fuzz.sh builds them with -sanitize=fuzzer,address and runs each from a seed corpus.
import PackageDescription

let fuzzTargets: [(name: String, library: String)] = [
    ("FuzzWebhookPayload", "AttributionCore"), ("FuzzSignatureHeader", "AttributionCore"),
    ("FuzzQueryString", "AttributionCore"), ("FuzzIPAnonymizer", "AttributionCore"),
    ("FuzzTimeAndMoney", "AttributionCore"), ("FuzzConfig", "AttributionServer"),
]

let package = Package(
    name: "clickattr-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "clickattr", path: "..")],
    targets: [.target(name: "FuzzDriver")]
        + fuzzTargets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzDriver", .product(name: target.library, package: "clickattr")])
        }
)
