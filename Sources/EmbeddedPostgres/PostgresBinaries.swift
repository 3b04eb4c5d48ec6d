import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the PostgreSQL server programs are. Debian keeps them in
/// `/usr/lib/postgresql/<major>/bin`, which is not on PATH.
struct PostgresBinaries: Sendable {
    let initdb: String
    let postgres: String
    let pgCtl: String

    /// Looks in `$RECEIVER_PG_BINDIR`, then in the newest `/usr/lib/postgresql/*/bin`,
    /// then in `pg_config --bindir`'s usual places and PATH.
    static func locate() throws(EmbeddedPostgresError) -> PostgresBinaries {
        try locate(in: defaultSearchPath())
    }

    static func locate(in candidates: [String]) throws(EmbeddedPostgresError) -> PostgresBinaries {
        for directory in candidates where access(directory + "/initdb", X_OK) == 0
            && access(directory + "/postgres", X_OK) == 0 && access(directory + "/pg_ctl", X_OK) == 0 {
            return PostgresBinaries(initdb: directory + "/initdb", postgres: directory + "/postgres", pgCtl: directory + "/pg_ctl")
        }
        throw .binariesNotFound(searched: candidates)
    }

    static func defaultSearchPath() -> [String] {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["RECEIVER_PG_BINDIR"], !explicit.isEmpty {
            candidates.append(explicit)
        }
        let debianRoot = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: debianRoot)) ?? [])
            .compactMap { Int($0) }
            .sorted(by: >)
        candidates += versions.map { "\(debianRoot)/\($0)/bin" }
        candidates += ["/usr/local/pgsql/bin", "/usr/local/bin", "/usr/bin"]
        if let path = ProcessInfo.processInfo.environment["PATH"] {
            candidates += path.split(separator: ":").map(String.init)
        }
        return candidates
    }
}
