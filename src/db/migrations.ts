// Append-only schema migrations: entry N brings the schema to version N. Never edit a landed entry.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "host metadata",
    sql: `
      CREATE TABLE host_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
];

export const LATEST_SCHEMA = MIGRATIONS.length;
