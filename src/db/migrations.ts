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
  {
    version: 2,
    name: "vm lifecycle: images, sizes, profiles, networks, vms, disks, nics, operations",
    sql: `
      CREATE TABLE images (
        id             TEXT PRIMARY KEY,
        name           TEXT NOT NULL UNIQUE,
        kind           TEXT NOT NULL CHECK (kind IN ('disk', 'iso', 'kernel')),
        format         TEXT NOT NULL,
        volume         TEXT NOT NULL,
        initrd_volume  TEXT,
        source         TEXT NOT NULL,
        sha256         TEXT,
        virtual_size   INTEGER NOT NULL DEFAULT 0,
        allocated_size INTEGER NOT NULL DEFAULT 0,
        status         TEXT NOT NULL CHECK (status IN ('importing', 'ready', 'failed')),
        created_at     TEXT NOT NULL
      ) STRICT;

      CREATE TABLE sizes (
        name       TEXT PRIMARY KEY,
        vcpus      INTEGER NOT NULL,
        memory_mib INTEGER NOT NULL,
        origin     TEXT NOT NULL CHECK (origin IN ('api', 'config'))
      ) STRICT;

      CREATE TABLE profiles (
        name   TEXT PRIMARY KEY,
        spec   TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('api', 'config'))
      ) STRICT;

      CREATE TABLE networks (
        name       TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('ovs', 'nat')),
        bridge     TEXT NOT NULL,
        vlan       INTEGER,
        trunk      TEXT,
        subnet     TEXT,
        owns_bridge INTEGER NOT NULL DEFAULT 0 CHECK (owns_bridge IN (0, 1)),
        created_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE vms (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        uuid        TEXT,
        status      TEXT NOT NULL,
        vcpus       INTEGER NOT NULL,
        memory_mib  INTEGER NOT NULL,
        profile     TEXT,
        image       TEXT,
        boot        TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        tags        TEXT NOT NULL DEFAULT '{}',
        ssh_keys    TEXT NOT NULL DEFAULT '[]',
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        stopped_at  TEXT,
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE vm_disks (
        vm_id    TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        unit     INTEGER NOT NULL,
        name     TEXT NOT NULL,
        volume   TEXT NOT NULL,
        path     TEXT NOT NULL,
        format   TEXT NOT NULL,
        device   TEXT NOT NULL CHECK (device IN ('disk', 'cdrom')),
        size     INTEGER NOT NULL,
        image    TEXT,
        PRIMARY KEY (vm_id, unit),
        UNIQUE (vm_id, name)
      ) STRICT;

      CREATE TABLE vm_nics (
        vm_id   TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        idx     INTEGER NOT NULL,
        network TEXT NOT NULL,
        mac     TEXT NOT NULL,
        PRIMARY KEY (vm_id, idx)
      ) STRICT;
      CREATE INDEX vm_nics_network ON vm_nics(network);

      CREATE TABLE operations (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        target      TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
        progress    REAL NOT NULL DEFAULT 0,
        message     TEXT NOT NULL DEFAULT '',
        error       TEXT,
        result      TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;
      CREATE INDEX operations_target ON operations(target, status);
    `,
  },
  {
    version: 3,
    name: "vm snapshots: what each VM looked like when it was snapshotted",
    sql: `
      CREATE TABLE vm_snapshots (
        vm_id        TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        description  TEXT NOT NULL DEFAULT '',
        state        TEXT NOT NULL,
        memory_state INTEGER NOT NULL DEFAULT 0 CHECK (memory_state IN (0, 1)),
        config       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        PRIMARY KEY (vm_id, name)
      ) STRICT;
    `,
  },
];

export const LATEST_SCHEMA = MIGRATIONS.length;
