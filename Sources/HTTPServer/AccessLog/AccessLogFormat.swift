/// How access-log lines look: the same as the process's other log lines, so one
/// collector reads both.
public enum AccessLogFormat: Sendable {
    /// swift-log's `StreamLogHandler` line:
    /// `2026-12-06T06:40:00+0000 info connector-receiver: bytes=15 duration_ms=0.042 event-loop=0 method=GET path=/healthz request-id=… status=200 [HTTPServer] request`
    case text
    /// One JSON object a line, as the `json` log format writes every event:
    /// `{"timestamp":"2026-12-06T06:40:00.123456Z","level":"info","label":"connector-receiver","message":"request","metadata":{…}}`
    case json
}
