import Foundation
import Postgres

/// How the shared person fields map to the columns prospects and members have in common.
extension PersonFields {
    /// Column names, in the order of `bindings`.
    package static let columnNames = [
        "club_id", "external_id", "first_name", "last_name", "email",
        "phone_mobile", "phone_home", "phone_work",
        "address_line1", "address_line2", "address_city", "address_region", "address_postal_code", "address_country",
        "birth_date", "gender", "notes",
    ]

    package var bindings: [PostgresBinding] {
        [
            PostgresBinding(clubId), PostgresBinding(externalId), PostgresBinding(firstName), PostgresBinding(lastName),
            PostgresBinding(email), PostgresBinding(phones.mobile), PostgresBinding(phones.home), PostgresBinding(phones.work),
            PostgresBinding(address.line1), PostgresBinding(address.line2), PostgresBinding(address.city),
            PostgresBinding(address.region), PostgresBinding(address.postalCode), PostgresBinding(address.country),
            PostgresBinding(birthDate), PostgresBinding(gender), PostgresBinding(notes),
        ]
    }

    package init(row: PostgresRow) throws {
        self.init(
            clubId: try row.decode("club_id"),
            externalId: try row.decode("external_id"),
            firstName: try row.decode("first_name"),
            lastName: try row.decode("last_name"),
            email: try row.decode("email"),
            phones: Phones(mobile: try row.decode("phone_mobile"), home: try row.decode("phone_home"), work: try row.decode("phone_work")),
            address: Address(
                line1: try row.decode("address_line1"), line2: try row.decode("address_line2"),
                city: try row.decode("address_city"), region: try row.decode("address_region"),
                postalCode: try row.decode("address_postal_code"), country: try row.decode("address_country")),
            birthDate: try row.decode("birth_date"),
            gender: try row.decode("gender"),
            notes: try row.decode("notes"))
    }
}

/// Builds statements whose column lists come from code (never from input) and
/// whose values are all bound parameters.
package struct StatementBuilder {
    private(set) var bindings: [PostgresBinding] = []

    /// Adds a value and returns its placeholder (`$n`).
    package mutating func bind(_ binding: PostgresBinding) -> String {
        bindings.append(binding)
        return "$\(bindings.count)"
    }

    package mutating func bind<Value: PostgresEncodable>(_ value: Value) -> String {
        bind(PostgresBinding(value))
    }

    /// `INSERT INTO table (columns) VALUES (placeholders) RETURNING returning`.
    package mutating func insert(into table: String, columns: [(String, PostgresBinding)], returning: String) -> PostgresQuery {
        let placeholders = columns.map { bind($0.1) }
        let sql = "INSERT INTO \(table) (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", "))) RETURNING \(returning)"
        return PostgresQuery(sql: sql, bindings: bindings)
    }

    /// `UPDATE table SET columns…, updated_at = now(), version = version + 1 WHERE client_id = … AND id = … RETURNING …`.
    package mutating func update(_ table: String, columns: [(String, PostgresBinding)], clientId: String, id: UUID, returning: String) -> PostgresQuery {
        let assignments = columns.map { "\($0.0) = \(bind($0.1))" }
        let sql = """
            UPDATE \(table) SET \(assignments.joined(separator: ", ")), updated_at = now(), version = version + 1
            WHERE client_id = \(bind(clientId)) AND id = \(bind(id)) RETURNING \(returning)
            """
        return PostgresQuery(sql: sql, bindings: bindings)
    }
}
