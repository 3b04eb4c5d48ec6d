import Foundation
import Postgres

/// SQL for reader credentials: read-only HTTP Basic credentials that club
/// systems use on `/v1`, any number per client beside its one Connector
/// credential. The one implementation behind both `/admin/v1` and
/// `connector-receiver turnup reader`.
///
/// They live in `credentials` with `role = 'reader'`, stored like the
/// Connector's (a keyed hash, ``CredentialSecrets``), with the same
/// `<clientId>.<random>` usernames, so ``ClientAuthenticator`` checks both
/// with one lookup. Revoking sets `revoked_at` and keeps the row: the
/// username is never issued again and the audit trail can still name it.
/// Changes lock the client's row first and record their audit event in the
/// same transaction, like every admin change (``ClientStore``).
public enum ReaderCredentials {
    /// The longest label, in Unicode code points (the column's check agrees).
    public static let maximumLabelLength = 200

    /// The label of `POST …/reader-credentials` (`{"label": "..."}`): required,
    /// 1 to 200 characters after trimming. A credential nobody can tell apart
    /// in the list is one nobody dares to revoke.
    public static func parseLabel(_ body: JSONObject) -> Result<String, ValidationFailure> {
        var reader = FieldReader(body)
        let label = reader.string("label", required: true, maxLength: maximumLabelLength)
        guard reader.errors.isEmpty, let label else { return .failure(ValidationFailure(errors: reader.errors)) }
        return .success(label)
    }

    /// Issues a new reader credential for the client, audited as `reader.create`
    /// (id, label, username; never the password). 404 for an unknown client.
    public static func issue(
        clientId: String, label: String, by audit: AuditContext, on connection: PostgresConnection
    ) throws -> IssuedReaderCredential {
        let credential = ClientStore.newCredential(clientId: clientId)
        let reader = try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            let rows = try connection.query("""
                INSERT INTO credentials (client_id, username, password_hash, role, id, label)
                VALUES (\(clientId), \(credential.username), \(CredentialSecrets.hash(password: credential.password)),
                        'reader', \(RecordID.make()), \(label))
                RETURNING \(unescaped: ReaderCredential.columns)
                """)
            let reader = try ReaderCredential(row: rows[0])
            try AuditLog.record("reader.create", clientId: clientId, changes: auditChanges(reader), by: audit, on: connection)
            return reader
        }
        return IssuedReaderCredential(reader: reader, password: credential.password)
    }

    /// Where a page of the list starts: after the id of its cursor.
    package static func after(_ page: Page) throws(ReceiverError) -> UUID? {
        try page.afterID()
    }

    /// The cursor key of a reader credential in `list`'s order.
    public static func sortKey(_ reader: ReaderCredential) -> [String] {
        [reader.id.lowercasedString]
    }

    /// The client's reader credentials that are not revoked, oldest first (ids
    /// are time-ordered, ``RecordID``), those after `after`, at most `limit`.
    /// The caller checks that the client exists.
    public static func list(clientId: String, after: UUID?, limit: Int, on connection: PostgresConnection) throws -> [ReaderCredential] {
        try connection.query("""
            SELECT \(unescaped: ReaderCredential.columns) FROM credentials
            WHERE client_id = \(clientId) AND role = 'reader' AND revoked_at IS NULL
              AND (\(after)::uuid IS NULL OR id > \(after))
            ORDER BY id
            LIMIT \(limit)
            """).map(ReaderCredential.init(row:))
    }

    /// The id of a reader credential as a path or the command line gives it.
    /// Text that is not a UUID names no credential: a 404, the unknown client's
    /// if the client is unknown too, so the caller learns what to fix first.
    public static func parseId(_ text: String, clientId: String, on connection: PostgresConnection) throws -> UUID {
        if let id = RecordID.parse(text) { return id }
        try ClientStore.requireExists(clientId, on: connection)
        throw unknownReader(text, clientId: clientId)
    }

    /// The reader credential, unless it is revoked or unknown: then a 404.
    public static func require(_ id: UUID, clientId: String, on connection: PostgresConnection) throws -> ReaderCredential {
        guard let row = try connection.query("""
            SELECT \(unescaped: ReaderCredential.columns) FROM credentials
            WHERE client_id = \(clientId) AND role = 'reader' AND id = \(id) AND revoked_at IS NULL
            """).first else { throw unknownReader(id.lowercasedString, clientId: clientId) }
        return try ReaderCredential(row: row)
    }

    /// Revokes the reader credential: its next call is answered 401 (`/v1`
    /// authentication reads the database on every request, on every instance).
    /// Audited as `reader.revoke`. 404 for an unknown client, and for an id that
    /// is not one of the client's active reader credentials.
    public static func revoke(
        _ id: UUID, clientId: String, by audit: AuditContext, on connection: PostgresConnection
    ) throws -> ReaderCredential {
        try connection.transaction { connection in
            _ = try ClientStore.lock(clientId, on: connection)
            guard let row = try connection.query("""
                UPDATE credentials SET revoked_at = now()
                WHERE client_id = \(clientId) AND role = 'reader' AND id = \(id) AND revoked_at IS NULL
                RETURNING \(unescaped: ReaderCredential.columns)
                """).first else { throw unknownReader(id.lowercasedString, clientId: clientId) }
            let reader = try ReaderCredential(row: row)
            try AuditLog.record("reader.revoke", clientId: clientId, changes: auditChanges(reader), by: audit, on: connection)
            return reader
        }
    }

    /// Sets `last_used_at` to now. Called through ``ReaderUseRecorder``, which
    /// keeps a busy reader from writing on every call.
    package static func markUsed(_ id: UUID, clientId: String, on connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE credentials SET last_used_at = now()
            WHERE client_id = \(clientId) AND role = 'reader' AND id = \(id) AND revoked_at IS NULL
            """)
    }

    /// The 404 for an id that names no active reader credential of the client
    /// (a path segment that is not a UUID included).
    public static func unknownReader(_ id: String, clientId: String) -> ReceiverError {
        .notFound("No active reader credential \(id) at client \(clientId).")
    }

    private static func auditChanges(_ reader: ReaderCredential) -> JSONObject {
        ["id": .string(reader.id.lowercasedString), "label": .string(reader.label), "username": .string(reader.username)]
    }
}
