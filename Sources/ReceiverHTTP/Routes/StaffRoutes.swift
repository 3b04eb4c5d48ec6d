import Foundation
import HTTPServer
import ReceiverCore

/// `GET /v1/staff`: the Connector's read of the staff list, every item with its email.
struct StaffRoutes {
    let endpoint: ConnectorEndpoint

    func register(in router: inout Router) {
        guard endpoint.saveLanes > 0 else {
            router.get("/v1/staff", handler: endpoint.read { call in
                let read = try Self.read(call.request, credential: try ConnectorEndpoint.credential(call.request))
                let staff = try StaffAdminStore.list(
                    clientId: call.client.clientId, clubId: read.clubId, email: read.email, after: read.after, limit: read.limit,
                    on: call.connection)
                return .json(read.page.listBody(staff, json: \.json, sortKey: StaffAdminStore.sortKey))
            })
            return
        }
        // On the I/O thread: the read is handed to a lane, which answers; reads by
        // email that arrive together share one statement (``StaffReads``).
        router.get("/v1/staff", options: [.inline, .admitted], handler: LaneReads<StaffRead>.handler(
            endpoint, counted: [("resource", "staff")], parse: { request, _, credential in try Self.read(request, credential: credential) }
        ) { reads, connection in
            zip(reads, try StaffReads.run(reads, on: connection)).map { read, outcome in
                LaneReads<StaffRead>.found(outcome) { staff in .json(read.page.listBody(staff, json: \.json, sortKey: StaffAdminStore.sortKey)) }
            }
        })
    }

    /// The read a request asks for; a bad `limit`, `cursor`, `clubId` or `email` is a 400.
    static func read(_ request: Request, credential: ClientCredential) throws -> StaffRead {
        let page = try RequestSupport.page(request, keyCount: 2)
        return StaffRead(
            credential: credential, page: page, after: try StaffAdminStore.after(page),
            clubId: try RequestSupport.queryClubId(request),
            email: try RequestSupport.queryText(request, "email", maxLength: 254))
    }
}
