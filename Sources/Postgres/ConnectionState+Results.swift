import CLibPQ

/// Reading libpq's results and messages: the parts of a statement's exchange that do
/// not touch the connection.
extension ConnectionState {
    /// Reads a whole result into memory. Values are decoded as UTF-8, which every
    /// session's `client_encoding=UTF8` guarantees they are.
    static func rows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<Int32(columnCount) {
            columns.append(PostgresColumn(
                name: String(cString: PQfname(result, column)),
                dataType: PostgresDataType(PQftype(result, column))
            ))
        }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column),
                        count: Int(PQgetlength(result, row, column))
                    )
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(
            storage: PostgresResultStorage(columns: columns, rowCount: rowCount, values: values),
            commandTag: String(cString: PQcmdStatus(result)),
            affectedRowCount: affected
        )
    }

    /// Finds a server error in libpq's connection error text, which in verbose mode has
    /// the form `SEVERITY:  SQLSTATE: message` (the severity word may be translated; the
    /// SQLSTATE never is). Returns the code and message of the first such line.
    static func serverError(inConnectionMessage text: String) -> (SQLState, String)? {
        for line in text.split(whereSeparator: \.isNewline) {
            guard let separator = line.firstRange(of: ":  ") else { continue }
            let rest = line[separator.upperBound...]
            let code = rest.prefix(5)
            guard code.count == 5,
                  code.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) }),
                  rest.dropFirst(5).hasPrefix(": ")
            else { continue }
            let message = rest.dropFirst(7).trimmingBlanks()
            return (SQLState(rawValue: String(code)), String(message))
        }
        return nil
    }

    /// A diagnostic field of an error result (`PG_DIAG_*`, which are single letters).
    static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(result, Int32(code.value)) else { return nil }
        return String(cString: value)
    }

    /// libpq's messages end in a newline and continue on tab-indented lines; make one line.
    static func normalizedMessage(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingBlanks() }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingBlanks() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
