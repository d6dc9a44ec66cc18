"""The sites and members files (`sites.toml`, `members.toml`): read and checked, with errors
that name the line. Pure: loading the result into the database is `storage`'s."""
