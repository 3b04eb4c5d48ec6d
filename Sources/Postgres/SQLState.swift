/// A PostgreSQL SQLSTATE error code (five characters, e.g. `23505`).
///
/// The named constants are the codes this product reacts to; any other code the
/// server sends is still kept, as a plain value. Compare with `==` or `switch`:
///
/// ```swift
/// if error.code == .uniqueViolation { … answer 409 … }
/// ```
///
/// See the PostgreSQL manual, appendix A "PostgreSQL Error Codes".
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The five-character code, e.g. `"40001"`.
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// The two-character class, e.g. `"23"` (integrity constraint violation) for `23505`.
    public var errorClass: String {
        String(rawValue.prefix(2))
    }

    /// The condition name from the PostgreSQL manual (`unique_violation`), for the codes named here.
    public var conditionName: String? {
        Self.conditionNames[self]
    }

    /// `23505 (unique_violation)`, or just the code when it has no name here.
    public var description: String {
        if let conditionName { "\(rawValue) (\(conditionName))" } else { rawValue }
    }

    // Class 08: connection exception
    public static let connectionException: SQLState = "08000"
    public static let connectionFailure: SQLState = "08006"
    // Class 0A / 22: data exceptions
    public static let featureNotSupported: SQLState = "0A000"
    public static let stringDataRightTruncation: SQLState = "22001"
    public static let numericValueOutOfRange: SQLState = "22003"
    public static let invalidDatetimeFormat: SQLState = "22007"
    public static let datetimeFieldOverflow: SQLState = "22008"
    public static let divisionByZero: SQLState = "22012"
    public static let invalidTextRepresentation: SQLState = "22P02"
    // Class 23: integrity constraint violation
    public static let notNullViolation: SQLState = "23502"
    public static let foreignKeyViolation: SQLState = "23503"
    public static let uniqueViolation: SQLState = "23505"
    public static let checkViolation: SQLState = "23514"
    public static let exclusionViolation: SQLState = "23P01"
    // Class 25: invalid transaction state
    public static let activeSQLTransaction: SQLState = "25001"
    public static let readOnlySQLTransaction: SQLState = "25006"
    public static let noActiveSQLTransaction: SQLState = "25P01"
    public static let inFailedSQLTransaction: SQLState = "25P02"
    public static let idleInTransactionSessionTimeout: SQLState = "25P03"
    // Class 28: invalid authorization
    public static let invalidAuthorizationSpecification: SQLState = "28000"
    public static let invalidPassword: SQLState = "28P01"
    // Class 3D: invalid catalog name (the database does not exist)
    public static let invalidCatalogName: SQLState = "3D000"
    // Class 40: transaction rollback
    public static let transactionRollback: SQLState = "40000"
    public static let serializationFailure: SQLState = "40001"
    public static let deadlockDetected: SQLState = "40P01"
    // Class 42: syntax error or access rule violation
    public static let syntaxError: SQLState = "42601"
    public static let insufficientPrivilege: SQLState = "42501"
    public static let undefinedColumn: SQLState = "42703"
    public static let undefinedFunction: SQLState = "42883"
    public static let undefinedTable: SQLState = "42P01"
    public static let duplicateTable: SQLState = "42P07"
    public static let duplicateObject: SQLState = "42710"
    public static let datatypeMismatch: SQLState = "42804"
    // Class 53: insufficient resources
    public static let tooManyConnections: SQLState = "53300"
    // Class 55: object not in prerequisite state
    public static let lockNotAvailable: SQLState = "55P03"
    // Class 57: operator intervention
    public static let queryCanceled: SQLState = "57014"
    public static let adminShutdown: SQLState = "57P01"
    public static let crashShutdown: SQLState = "57P02"
    public static let cannotConnectNow: SQLState = "57P03"
    public static let idleSessionTimeout: SQLState = "57P05"

    private static let conditionNames: [SQLState: String] = [
        .connectionException: "connection_exception",
        .connectionFailure: "connection_failure",
        .featureNotSupported: "feature_not_supported",
        .stringDataRightTruncation: "string_data_right_truncation",
        .numericValueOutOfRange: "numeric_value_out_of_range",
        .invalidDatetimeFormat: "invalid_datetime_format",
        .datetimeFieldOverflow: "datetime_field_overflow",
        .divisionByZero: "division_by_zero",
        .invalidTextRepresentation: "invalid_text_representation",
        .notNullViolation: "not_null_violation",
        .foreignKeyViolation: "foreign_key_violation",
        .uniqueViolation: "unique_violation",
        .checkViolation: "check_violation",
        .exclusionViolation: "exclusion_violation",
        .activeSQLTransaction: "active_sql_transaction",
        .readOnlySQLTransaction: "read_only_sql_transaction",
        .noActiveSQLTransaction: "no_active_sql_transaction",
        .inFailedSQLTransaction: "in_failed_sql_transaction",
        .idleInTransactionSessionTimeout: "idle_in_transaction_session_timeout",
        .invalidAuthorizationSpecification: "invalid_authorization_specification",
        .invalidPassword: "invalid_password",
        .invalidCatalogName: "invalid_catalog_name",
        .transactionRollback: "transaction_rollback",
        .serializationFailure: "serialization_failure",
        .deadlockDetected: "deadlock_detected",
        .syntaxError: "syntax_error",
        .insufficientPrivilege: "insufficient_privilege",
        .undefinedColumn: "undefined_column",
        .undefinedFunction: "undefined_function",
        .undefinedTable: "undefined_table",
        .duplicateTable: "duplicate_table",
        .duplicateObject: "duplicate_object",
        .datatypeMismatch: "datatype_mismatch",
        .tooManyConnections: "too_many_connections",
        .lockNotAvailable: "lock_not_available",
        .queryCanceled: "query_canceled",
        .adminShutdown: "admin_shutdown",
        .crashShutdown: "crash_shutdown",
        .cannotConnectNow: "cannot_connect_now",
        .idleSessionTimeout: "idle_session_timeout",
    ]
}
