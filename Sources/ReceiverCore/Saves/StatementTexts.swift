import Postgres

/// The texts of the save path's statements (a batch's lookup and writes), one per
/// kind of record, statement and variant, composed once per process.
enum StatementTexts {
    static let shared = PostgresStatementTexts()
}
