import Foundation
import Testing

@testable import AttributionServer

@Suite struct ShippedTemplatesTests {
    /// The binary carries the templates of `templates/`: `bash templates/embed.sh` after editing one.
    @Test func theBuiltInTemplatesAreTheFilesOfTheTemplatesFolder() throws {
        let folder = TestService.packageRoot.appendingPathComponent("templates")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }
        #expect(Set(files.map { String($0.dropLast(".mustache".count)) }) == Set(BuiltInTemplates.all.keys))
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(BuiltInTemplates.all[String(file.dropLast(".mustache".count))] == text, "\(file) differs from BuiltInTemplates.swift")
        }
    }

    @Test func aTemplatesFolderOverridesTheBuiltInPage() async throws {
        let folder = try FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "<p>Our own page for {{slug}}</p>".write(
            to: folder.appendingPathComponent("landing.mustache"), atomically: true, encoding: .utf8)
        try await TestService { $0.http.templatesDirectory = folder.path }.test { client in
            let page = try await client.execute(uri: "/catalogue?click_id=o", method: .get)
            #expect(String(buffer: page.body) == "<p>Our own page for catalogue</p>")
        }
    }

    @Test func aFolderWithoutTheLandingTemplateIsAStartUpError() async throws {
        let folder = try FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let service = try TestService { $0.http.templatesDirectory = folder.path }
        await #expect(throws: ConfigError.self) { try await service.test { _ in } }
    }
}
