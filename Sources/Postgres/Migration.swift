/// One migration file: `NNNN_name.sql` in the migrations directory.
public struct Migration: Sendable, Hashable {
    /// The number in the file name (`2` for `0002_staff.sql`); migrations apply in this order.
    public let version: Int
    /// The file name, e.g. `0002_staff.sql`; recorded in `schema_migrations.name`.
    public let fileName: String
    /// The file's contents (valid UTF-8).
    public let sql: String

    /// A migration from its parts (``Migrator/loadMigrations()`` builds them from files).
    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
    }

    /// Parses a migration file name: four digits, an underscore, a name of ASCII letters,
    /// digits, `_` or `-`, and `.sql` (lower case). Returns the version, or nil for any
    /// other name (`2_x.sql`, `0002-x.sql`, `0002_x.SQL`, `0002_x.sql.bak`).
    public static func version(ofFileName fileName: String) -> Int? {
        let bytes = Array(fileName.utf8)
        guard bytes.count > 9, fileName.hasSuffix(".sql") else { return nil }
        let digits = bytes[0..<4]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              bytes[4] == UInt8(ascii: "_")
        else { return nil }
        let name = bytes[5..<(bytes.count - 4)]
        guard !name.isEmpty, name.allSatisfy({ byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}

/// A migration as recorded in `schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    /// The migration's number (`schema_migrations.version`).
    public let version: Int
    /// The file name it was applied from.
    public let fileName: String
    /// SHA-256 of the file's bytes, lowercase hex.
    public let checksum: String

    /// A record from its parts.
    public init(version: Int, fileName: String, checksum: String) {
        self.version = version
        self.fileName = fileName
        self.checksum = checksum
    }
}
