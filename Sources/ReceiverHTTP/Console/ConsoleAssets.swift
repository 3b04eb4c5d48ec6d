import Foundation

/// The console's static files (`console/`: HTML, CSS, JavaScript modules),
/// read once at start-up and served from memory at `/admin/`.
public struct ConsoleAssets: Sendable {
    public struct Asset: Sendable {
        public var body: [UInt8]
        public var contentType: String
    }

    /// By file name; the console is one flat directory.
    public let files: [String: Asset]

    /// The file types the console is made of; anything else in the directory is not served.
    static let contentTypes = [
        "html": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
    ]

    public init(files: [String: Asset]) {
        self.files = files
    }

    /// Reads every served file type of `directory`; nil when there is no
    /// `index.html` there (no console to serve).
    public init?(directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var files: [String: Asset] = [:]
        for name in names {
            let fileExtension = (name as NSString).pathExtension.lowercased()
            guard let contentType = Self.contentTypes[fileExtension], !name.hasPrefix("."),
                  let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
            else { continue }
            files[name] = Asset(body: Array(data), contentType: contentType)
        }
        guard files["index.html"] != nil else { return nil }
        self.files = files
    }
}
