import HTTPServer
import ReceiverCore

extension ConnectorEndpoint {
    /// `handler`, noting each answer in ``ClientCallRecorder`` (connection health
    /// for the console) by the Basic username the request carries: answered here
    /// from outside, so that authentication failures (401, 403) count too, and the
    /// handler itself is untouched. Noting is a map update in memory.
    func recordingCalls(_ handler: @escaping RequestHandler) -> RequestHandler {
        guard let callRecorder else { return handler }
        return { request, context in
            guard let username = BasicCredentials.parse(request)?.username else { return try handler(request, &context) }
            do {
                let response = try handler(request, &context)
                callRecorder.record(username: username, status: response.status.code)
                return response
            } catch {
                callRecorder.record(username: username, status: (error as? any HTTPResponseError)?.status.code ?? 500)
                throw error
            }
        }
    }
}
