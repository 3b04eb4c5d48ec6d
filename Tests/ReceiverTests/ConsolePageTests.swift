import Foundation
import Testing
@testable import ReceiverCore
@testable import ReceiverHTTP

/// The console's files at `/admin/`: served only with the admin API on, under a
/// strict policy, and written so that policy holds (no inline script or style).
@Suite struct ConsolePageTests {
    static var consoleDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("console").path
    }

    static func service() -> ReceiverService.Configuration {
        ReceiverService.Configuration(consoleAssets: ConsoleAssets(directory: consoleDirectory))
    }

    @Test func pagesCarryTheContentSecurityPolicyAndFrameHeaders() throws {
        try TestServer.run(service: Self.service(), adminToken: TestServer.adminToken) { server in
            let assets = try #require(ConsoleAssets(directory: Self.consoleDirectory))
            #expect(assets.files.keys.contains("console.js"))
            for name in ["", "index.html"] + assets.files.keys.sorted() {
                let page = try server.request("GET", "/admin/" + name)
                #expect(page.status == 200, "\(name)")
                let policy = try #require(page.header("Content-Security-Policy"), "\(name)")
                for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
                    #expect(policy.contains(directive), "\(name): \(directive)")
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(page.header("X-Frame-Options") == "DENY")
                #expect(page.header("X-Content-Type-Options") == "nosniff")
                #expect(page.header("Referrer-Policy") == "no-referrer")
            }
            #expect(try server.request("GET", "/admin/").header("Content-Type") == "text/html; charset=utf-8")
            #expect(try server.request("GET", "/admin/console.js").header("Content-Type") == "text/javascript; charset=utf-8")
            let bare = try server.request("GET", "/admin")
            #expect(bare.status == 308 && bare.header("Location") == "/admin/")
            #expect(try server.request("GET", "/admin/missing.js").status == 404)
            #expect(try server.request("GET", "/admin/..%2Fopenapi.yaml").status == 404)
        }
    }

    @Test func theConsoleIsOffWithTheAdminAPI() throws {
        try TestServer.run(service: Self.service(), adminToken: nil) { (server: TestServer) throws in
            for path in ["/admin/", "/admin/console.js", "/admin/v1/session"] {
                #expect(try server.request("GET", path).status == 404, "\(path)")
            }
            #expect(try server.request("POST", "/admin/v1/session", json: #"{"token": "\#(TestServer.adminToken)"}"#).status == 404)
        }
    }

    @Test func aDirectoryWithoutIndexIsNoConsole() throws {
        #expect(ConsoleAssets(directory: "/nonexistent/console") == nil)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("body {}".utf8).write(to: directory.appendingPathComponent("console.css"))
        #expect(ConsoleAssets(directory: directory.path) == nil)
        try Data("<!doctype html>".utf8).write(to: directory.appendingPathComponent("index.html"))
        try Data("secret".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        try Data("x".utf8).write(to: directory.appendingPathComponent(".hidden.js"))
        let assets = try #require(ConsoleAssets(directory: directory.path))
        #expect(Set(assets.files.keys) == ["index.html", "console.css"], "only the console's file types, no hidden files")
    }

    /// What the policy forbids, the files must not need: a `<script>` without
    /// `src`, an `on…=` handler attribute, a `style=` attribute or `<style>`, a
    /// `javascript:` URL, `eval`. And the token or a password must never go to
    /// `localStorage`/`sessionStorage` or into a URL.
    @Test func theFilesNeedNothingThePolicyForbids() throws {
        let assets = try #require(ConsoleAssets(directory: Self.consoleDirectory))
        for (name, asset) in assets.files where name.hasSuffix(".html") || name.hasSuffix(".js") {
            let text = String(decoding: asset.body, as: UTF8.self)
            if name.hasSuffix(".html") {
                #expect(text.range(of: #"<script(?![^>]*\bsrc=)"#, options: .regularExpression) == nil, "\(name): inline script")
                #expect(text.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(name): handler attribute")
                #expect(text.range(of: #"\sstyle\s*="#, options: .regularExpression) == nil && !text.contains("<style"), "\(name): inline style")
            }
            #expect(!text.contains("javascript:") && !text.contains("eval("), "\(name)")
            #expect(!text.contains("localStorage") && !text.contains("sessionStorage"), "\(name)")
            #expect(!text.contains("innerHTML"), "\(name): text goes in as text")
        }
    }
}
