import Postgres
import Testing

/// Captures an expected PostgresError (and fails the test if something else, or nothing, is thrown).
func expectPostgresError(
    _ sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> PostgresError? {
    do {
        try body()
        Issue.record("expected a PostgresError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PostgresError {
        return error
    } catch {
        Issue.record("expected a PostgresError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
