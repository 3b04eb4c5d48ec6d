// EmbeddedPostgres module
