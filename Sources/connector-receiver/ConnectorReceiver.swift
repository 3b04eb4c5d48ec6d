import ArgumentParser

@main
struct ConnectorReceiver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector-receiver",
        abstract: "Receives prospects, members, staff and lead sources from the InTouch Connector.",
        discussion: """
            One server for many client organizations: the Connector calls /v1 with each \
            client's credentials; admins turn clients up through /admin/v1 or `turnup`.

            Without DATABASE_URL, `serve` and `migrate` run on an embedded PostgreSQL cluster \
            that the program initializes, starts and stops itself under --data-dir (default .data/).

            Environment:
              DATABASE_URL            libpq connection string or URI (else: the embedded cluster)
              DATABASE_URL_FILE       a file holding it instead (e.g. a Docker secret)
              RECEIVER_DATABASE_POOL_MODE  session (default) or transaction (DATABASE_URL is PgBouncer in transaction mode)
              RECEIVER_DATA_DIR       data directory of the embedded cluster (default .data)
              RECEIVER_MIGRATIONS_DIR directory of the numbered .sql migrations
              RECEIVER_LOG_LEVEL      trace, debug, info (default), notice, warning, error, critical
              RECEIVER_LOG_FORMAT     text (default) or json (one object per line)
              RECEIVER_ADMIN_TOKEN    admin token of /admin/v1 (or RECEIVER_ADMIN_TOKEN_FILE); without it the admin API is off
              RECEIVER_PUBLIC_URL     public base URL of this server: the default connection of new clients
            Flags override the environment. See `connector-receiver help <subcommand>`.
            """,
        subcommands: [Serve.self, Migrate.self, Turnup.self]
    )
}
