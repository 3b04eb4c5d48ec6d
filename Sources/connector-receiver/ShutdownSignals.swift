import HTTPServer

/// SIGINT and SIGTERM are received the one way the server module provides: blocked in every
/// thread and taken with sigwait(2) (see ``TerminationSignals`` for why). `serve` and
/// `migrate` install it first thing, before any thread starts.
typealias ShutdownSignals = TerminationSignals
