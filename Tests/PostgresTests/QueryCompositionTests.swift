import Foundation
import TestSupport
import Testing
@testable import Postgres

/// Fragments spliced into statements: their placeholders renumbered after the
/// ones bound before them, and nothing else touched.
@Suite("Query composition")
struct QueryCompositionTests {
    @Test func placeholdersOutsideQuotesAndWordsAreRenumbered() {
        #expect(PostgresQuery.renumbered("a = $1 AND b = $2", after: 3) == "a = $4 AND b = $5")
        #expect(PostgresQuery.renumbered("$1", after: 9) == "$10", "at the very start, and growing a digit")
        #expect(PostgresQuery.renumbered("x IN ($12,$3)", after: 100) == "x IN ($112,$103)")
        #expect(PostgresQuery.renumbered("'$1' || \"$2\" || $3", after: 1) == "'$1' || \"$2\" || $4", "quoted text and names stay")
        #expect(PostgresQuery.renumbered("'it''s $1' || $1", after: 1) == "'it''s $1' || $2", "a doubled quote stays inside")
        #expect(PostgresQuery.renumbered("a$1 || _$2 || 9$3 || ($4)", after: 1) == "a$1 || _$2 || 9$3 || ($5)", "part of a word is no placeholder")
        #expect(PostgresQuery.renumbered("$ || $x || $", after: 1) == "$ || $x || $")
        #expect(PostgresQuery.renumbered("é = $1, ü = $2", after: 2) == "é = $3, ü = $4", "UTF-8 passes through")
        #expect(PostgresQuery.renumbered("a = $1", after: 0) == "a = $1")
    }

    @Test func aComposedStatementBindsEveryFragmentsValues() throws {
        try TestDatabase.withConnection { connection throws in
            let inner: PostgresQuery = "SELECT \(2) AS two, '$1' AS text, \("b") AS b"
            var columns = PostgresColumns(["n", "name"])
            columns.append([PostgresBinding(1), PostgresBinding("one")])
            columns.append([PostgresBinding(2), PostgresBinding("two")])
            let query: PostgresQuery = """
                SELECT \(10) AS ten, f.two, f.text, f.b, r.n, r.name
                FROM (\(inner)) f, \(rows: columns, as: "r") WHERE r.n >= \(1) ORDER BY r.n
                """
            let rows = try connection.query(query)
            #expect(rows.count == 2)
            for (index, row) in rows.enumerated() {
                #expect(try row.decode("ten", as: Int.self) == 10)
                #expect(try row.decode("two", as: Int.self) == 2)
                #expect(try row.decode("text", as: String.self) == "$1")
                #expect(try row.decode("b", as: String.self) == "b")
                #expect(try row.decode("n", as: Int.self) == index + 1)
                #expect(try row.decode("name", as: String.self) == ["one", "two"][index])
            }
        }
    }

    /// Each column's literal is written as rows are appended: every awkward value
    /// comes back as it went in, through `unnest` and through `array(_:)` alike.
    @Test func columnsCarryEveryAwkwardValueUnchanged() throws {
        let values: [String?] = [
            "plain", "", nil, "NULL", "null", "a,b", "{braces}", "\"quoted\"", "back\\slash", "\\\"", " spaced ",
            "tab\tnew\nline", "é ü 名前 🏊", #"{"json":"with \"escapes\" and \\ too","n":[1,2]}"#,
        ]
        try TestDatabase.withConnection { connection throws in
            var columns = PostgresColumns(["n", "value"])
            for (index, value) in values.enumerated() { columns.append([PostgresBinding(index), PostgresBinding(value)]) }
            #expect(columns.count == values.count)
            let rows = try connection.query("SELECT r.n, r.value FROM \(rows: columns, as: "r") ORDER BY r.n")
            #expect(try rows.map { try $0.decode("value", as: String?.self) } == values)
            let again = try connection.query("SELECT \(columns.array("value"))::text[] AS a").first!.decode("a", as: [String?].self)
            #expect(again == values)
        }
    }

    /// A shape's text is composed once; later statements of the shape bind their
    /// own values to it and run as a fresh composition would.
    @Test func aShapesTextIsComposedOnceAndBindsEachStatementsValues() throws {
        let texts = PostgresStatementTexts()
        var compositions = 0
        func statement(_ names: [String], minimum: Int) -> PostgresQuery {
            var rows = PostgresColumns(["n", "name"])
            for (index, name) in names.enumerated() { rows.append([PostgresBinding(index), PostgresBinding(name)]) }
            return texts.query("names", bindings: [PostgresBinding(minimum)] + rows.bindings) {
                compositions += 1
                return "SELECT r.name FROM (SELECT \(minimum) AS minimum) m, \(rows: rows, as: "r") WHERE r.n >= m.minimum ORDER BY r.n"
            }
        }
        try TestDatabase.withConnection { connection throws in
            let first = statement(["a", "b", "c"], minimum: 1)
            let second = statement(["x", "y"], minimum: 0)
            #expect(compositions == 1)
            #expect(texts.count == 1)
            #expect(first.sql == second.sql)
            #expect(try connection.query(first).map { try $0.decode("name", as: String.self) } == ["b", "c"])
            #expect(try connection.query(second).map { try $0.decode("name", as: String.self) } == ["x", "y"])
        }
    }
}
