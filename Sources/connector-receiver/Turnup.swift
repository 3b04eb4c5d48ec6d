import ArgumentParser

/// `connector-receiver turnup …`: the admin API's operations straight against
/// the database, for an operator at a shell. The same store functions as
/// `/admin/v1` do the work, so validation, audit and results are the same.
struct Turnup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turnup",
        abstract: "Turn up clients and manage them: clubs, credentials, reader credentials, webhook endpoints, staff, verification.",
        discussion: """
            The same operations as the admin API (/admin/v1), run directly against the database: \
            no admin token is needed, only access to the database. Every change is recorded in \
            the client's audit trail as made by cli:<your unix user>.

            The database is DATABASE_URL (or --database-url); without it, the embedded cluster \
            under --data-dir, used beside a running `serve` or started for the command. Pending \
            migrations are applied first.

            Every subcommand prints readable text, or with --json the JSON the admin API answers. \
            Only warnings and errors are logged unless --log-level says otherwise.

            Example:
              connector-receiver turnup add acme --name "Acme Fitness" \\
                  --club club-001="Downtown" --club club-002="Uptown" \\
                  --connection https://receiver.example.com
            """,
        subcommands: [
            TurnupAdd.self, TurnupList.self, TurnupShow.self, TurnupUpdate.self,
            TurnupSuspend.self, TurnupResume.self, TurnupClub.self,
            TurnupRotate.self, TurnupVerify.self, TurnupStaff.self, TurnupReader.self, TurnupWebhook.self,
            TurnupAudit.self, TurnupSyncErrors.self,
        ]
    )
}

/// What every `turnup` subcommand takes: where the database is, logging, `--json`.
struct TurnupOptions: ParsableArguments {
    @Flag(help: "Print the admin API's JSON instead of text.")
    var json = false

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions
}
