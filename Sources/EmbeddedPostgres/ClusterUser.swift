#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The unprivileged system user that runs the cluster when the program runs as root.
struct ClusterUser: Sendable, Equatable {
    static let defaultName = "postgres"

    let name: String
    let uid: uid_t
    let gid: gid_t

    /// nil when the program is not root: the cluster then runs as the current user.
    static func forCurrentProcess() throws(EmbeddedPostgresError) -> ClusterUser? {
        guard geteuid() == 0 else { return nil }
        guard let entry = getpwnam(defaultName) else { throw .clusterUserMissing(defaultName) }
        return ClusterUser(name: defaultName, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    /// The command run as this user. `setpriv` execs the command in place (no
    /// intermediate process), so the postmaster stays our direct child.
    func wrap(_ arguments: [String]) -> [String] {
        ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] + arguments
    }
}

extension Optional where Wrapped == ClusterUser {
    func wrapIfNeeded(_ arguments: [String]) -> [String] {
        map { $0.wrap(arguments) } ?? arguments
    }
}
