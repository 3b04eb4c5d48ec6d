import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Waiting for the server's results by the statement's deadline, without ever letting
/// libpq block.
extension ConnectionState {
    /// The statement's result, as `PQexec` returns it: the last one when SQL text holds
    /// several statements (an error ends the text, so it is then the last), stopping
    /// early at a COPY, which needs the caller. nil only if libpq produced none.
    mutating func lastResult(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) -> OpaquePointer? {
        var last: OpaquePointer?
        do throws(PostgresError) {
            while let result = try nextResult(of: statement, on: handle, by: deadline) {
                if let last { PQclear(last) }
                last = result
                switch PQresultStatus(result) {
                case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                    return result
                default:
                    if PQstatus(handle) == CONNECTION_BAD { return result }
                }
            }
        } catch {
            if let last { PQclear(last) }
            throw error
        }
        return last
    }

    /// Waits until libpq holds the next result, or knows there is none, then takes it;
    /// so `PQgetResult` never blocks. Throws when `deadline` passes first.
    mutating func nextResult(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) -> OpaquePointer? {
        while PQisBusy(handle) != 0 {
            guard Self.waitForSocket(of: handle, events: Int16(POLLIN), until: deadline) else {
                throw abandon(statement, on: handle)
            }
            // On failure the connection is gone (closed socket): PQgetResult then returns
            // the error at once, without waiting.
            guard PQconsumeInput(handle) == 1 else { break }
        }
        return PQgetResult(handle)
    }

    /// Reads and drops the rows of a `COPY … TO STDOUT`, by `deadline`.
    mutating func discardCopyData(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        var buffer: UnsafeMutablePointer<CChar>?
        while true {
            let length = PQgetCopyData(handle, &buffer, 1)
            if let data = buffer {
                PQfreemem(data)
                buffer = nil
            }
            guard length == 0 else {
                if length > 0 { continue }
                return  // -1: the COPY is over; -2: failed. The results say which.
            }
            guard Self.waitForSocket(of: handle, events: Int16(POLLIN), until: deadline) else {
                throw abandon(statement, on: handle)
            }
            guard PQconsumeInput(handle) == 1 else { return }
        }
    }

    /// Drops the results still to come, by `deadline`.
    mutating func discardResults(of statement: Statement, on handle: OpaquePointer, by deadline: Deadline?) throws(PostgresError) {
        while let result = try nextResult(of: statement, on: handle, by: deadline) { PQclear(result) }
        if PQstatus(handle) != CONNECTION_OK { isBroken = true }
    }

    /// Waits until the connection's socket is ready for `events`; false once `deadline`
    /// has passed (nil: no deadline). True also when the socket is unusable: libpq's
    /// next call then reports the broken connection.
    static func waitForSocket(of handle: OpaquePointer, events: Int16, until deadline: Deadline?) -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { return false }
                // Rounded up, so the wait never ends just short of the deadline and spins.
                timeout = Int32(clamping: PostgresConfiguration.milliseconds(remaining))
            }
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }
        }
    }
}
