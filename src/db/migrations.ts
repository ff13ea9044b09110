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
  {
    version: 4,
    name: "warm pools: pools, pool membership and checkouts, history of ended pool VMs",
    sql: `
      CREATE TABLE pools (
        name       TEXT PRIMARY KEY,
        spec       TEXT NOT NULL,
        origin     TEXT NOT NULL CHECK (origin IN ('api', 'config')),
        generation INTEGER NOT NULL DEFAULT 1,
        failures   INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE pool_vms (
        vm_name        TEXT PRIMARY KEY,
        vm_id          TEXT UNIQUE REFERENCES vms(id) ON DELETE CASCADE,
        pool           TEXT NOT NULL,
        generation     INTEGER NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'checked_out', 'draining')),
        created_at     TEXT NOT NULL,
        ready_at       TEXT,
        checked_out_at TEXT,
        owner          TEXT,
        lifetime_hours REAL,
        expires_at     TEXT
      ) STRICT;
      CREATE INDEX pool_vms_pool ON pool_vms(pool, status);

      CREATE TABLE pool_history (
        vm_name        TEXT NOT NULL,
        pool           TEXT NOT NULL,
        status         TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        ready_at       TEXT,
        checked_out_at TEXT,
        owner          TEXT,
        ended_at       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX pool_history_ended ON pool_history(ended_at);

      -- Fires for cascaded deletes too: a pool VM deleted by anyone leaves its history.
      CREATE TRIGGER pool_vms_history AFTER DELETE ON pool_vms BEGIN
        INSERT INTO pool_history (vm_name, pool, status, created_at, ready_at, checked_out_at, owner, ended_at)
        VALUES (old.vm_name, old.pool, old.status, old.created_at, old.ready_at, old.checked_out_at, old.owner,
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
      END;
    `,
  },
  {
    version: 5,
    name: "auth tokens: the SHA-256 of each token, never the token",
    sql: `
      CREATE TABLE tokens (
        id           TEXT PRIMARY KEY,
        user         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        expires_at   TEXT,
        last_used_at TEXT
      ) STRICT;
      CREATE INDEX tokens_user ON tokens(user);
    `,
  },
  {
    version: 6,
    name: "tag history of checked-out pool VMs, for summaries",
    sql: `
      CREATE TABLE pool_tags (
        vm_name TEXT NOT NULL,
        day     TEXT NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (vm_name, day, key)
      ) STRICT;
      CREATE INDEX pool_tags_day ON pool_tags(day);

      -- Checkout and PATCH set a checked-out VM's tags through vms.tags: record them (and the owner as user).
      CREATE TRIGGER vms_pool_tags AFTER UPDATE OF tags ON vms
      WHEN EXISTS (SELECT 1 FROM pool_vms WHERE vm_id = new.id AND status = 'checked_out') BEGIN
        INSERT OR REPLACE INTO pool_tags (vm_name, day, key, value)
          SELECT new.name, substr(new.updated_at, 1, 10), j.key, CAST(j.value AS TEXT)
          FROM json_each(new.tags) j WHERE j.key <> 'pool';
        INSERT OR REPLACE INTO pool_tags (vm_name, day, key, value)
          SELECT new.name, substr(new.updated_at, 1, 10), 'user', pv.owner
          FROM pool_vms pv WHERE pv.vm_id = new.id AND pv.owner IS NOT NULL;
      END;
    `,
  },
  {
    version: 7,
    name: "on-demand requests: VMs asked for beyond a pool's ready stock, and what each got",
    sql: `
      CREATE TABLE pool_requests (
        id             TEXT PRIMARY KEY,
        owner          TEXT,
        status         TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'cancelled', 'failed')),
        lifetime_hours REAL,
        error          TEXT,
        created_at     TEXT NOT NULL,
        ready_at       TEXT
      ) STRICT;
      CREATE INDEX pool_requests_status ON pool_requests(status, created_at);

      CREATE TABLE pool_request_items (
        request_id TEXT NOT NULL REFERENCES pool_requests(id) ON DELETE CASCADE,
        pool       TEXT NOT NULL,
        count      INTEGER NOT NULL CHECK (count > 0),
        vms        TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (request_id, pool)
      ) STRICT;
    `,
  },
  {
    version: 8,
    name: "checkout reads a pool's ready VMs in hand-out order without sorting the pool",
    sql: `
      CREATE INDEX pool_vms_ready ON pool_vms(pool, generation, status, ready_at, vm_name);
    `,
  },
  {
    version: 9,
    name: "owners: the user who created a VM, and who started an operation (authorization in core)",
    sql: `
      ALTER TABLE vms ADD COLUMN owner TEXT;
      CREATE INDEX vms_owner ON vms(owner) WHERE owner IS NOT NULL;
      ALTER TABLE operations ADD COLUMN owner TEXT;
    `,
  },
  {
    version: 10,
    name: "disk buses: a disk sits on virtio-scsi (the default), virtio-blk, SATA or USB",
    sql: `
      ALTER TABLE vm_disks ADD COLUMN bus TEXT NOT NULL DEFAULT 'scsi'
        CHECK (bus IN ('scsi', 'virtio', 'sata', 'usb'));
    `,
  },
  {
    version: 11,
    name: "projects: every VM belongs to one (default until moved)",
    sql: `
      ALTER TABLE vms ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX vms_project ON vms(project);
    `,
  },
  {
    version: 12,
    name: "VM numbers: a small integer per VM, never reused, from 0 (Kahu's instance ids)",
    sql: `
      CREATE TABLE vm_numbers (
        num   INTEGER PRIMARY KEY,
        vm_id TEXT NOT NULL UNIQUE REFERENCES vms(id) ON DELETE CASCADE
      ) STRICT;
      CREATE TABLE vm_number_next (next INTEGER NOT NULL) STRICT;
      INSERT INTO vm_numbers (num, vm_id)
        SELECT ROW_NUMBER() OVER (ORDER BY created_at, id) - 1, id FROM vms;
      INSERT INTO vm_number_next (next) SELECT COUNT(*) FROM vms;
      CREATE TRIGGER vms_number AFTER INSERT ON vms BEGIN
        INSERT INTO vm_numbers (num, vm_id) SELECT next, NEW.id FROM vm_number_next;
        UPDATE vm_number_next SET next = next + 1;
      END;
    `,
  },
  {
    version: 13,
    name: "a VM's size: the named size it was made to, while its vCPUs and memory are still that size's",
    sql: `
      ALTER TABLE vms ADD COLUMN size TEXT;
    `,
  },
  {
    version: 14,
    name: "PVC volumes: qcow2 volumes made through PVC's storage API, in berth's pool, with their owner",
    sql: `
      CREATE TABLE pvc_volumes (
        pool       TEXT NOT NULL,
        name       TEXT NOT NULL,
        volume     TEXT NOT NULL,
        size       INTEGER NOT NULL,
        owner      TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (pool, name),
        UNIQUE (pool, volume)
      ) STRICT;
      CREATE INDEX pvc_volumes_owner ON pvc_volumes(owner) WHERE owner IS NOT NULL;
    `,
  },
  {
    version: 15,
    name: "libvirt-managed networks' options (forward, gateway, DHCP range, domain, IPv6, vni, description), their DHCP reservations, and PVC's ACLs",
    sql: `
      ALTER TABLE networks ADD COLUMN forward TEXT NOT NULL DEFAULT 'nat' CHECK (forward IN ('nat', 'route'));
      ALTER TABLE networks ADD COLUMN gateway TEXT;
      ALTER TABLE networks ADD COLUMN dhcp INTEGER NOT NULL DEFAULT 1 CHECK (dhcp IN (0, 1));
      ALTER TABLE networks ADD COLUMN dhcp_start TEXT;
      ALTER TABLE networks ADD COLUMN dhcp_end TEXT;
      ALTER TABLE networks ADD COLUMN domain TEXT;
      ALTER TABLE networks ADD COLUMN subnet6 TEXT;
      ALTER TABLE networks ADD COLUMN gateway6 TEXT;
      ALTER TABLE networks ADD COLUMN vni INTEGER;
      ALTER TABLE networks ADD COLUMN description TEXT;
      CREATE UNIQUE INDEX networks_vni ON networks(vni) WHERE vni IS NOT NULL;
      CREATE UNIQUE INDEX networks_description ON networks(description) WHERE description IS NOT NULL;

      CREATE TABLE network_hosts (
        network  TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
        mac      TEXT NOT NULL,
        ip       TEXT NOT NULL,
        hostname TEXT,
        PRIMARY KEY (network, mac),
        UNIQUE (network, ip)
      ) STRICT;

      CREATE TABLE pvc_acls (
        network     TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
        description TEXT NOT NULL,
        direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        rule        TEXT NOT NULL,
        position    INTEGER NOT NULL,
        PRIMARY KEY (network, description)
      ) STRICT;
    `,
  },
  {
    version: 16,
    name: "pool tiers: how a pool's ready VMs wait (running, paused, saved) and the VM status that means ready",
    sql: `
      ALTER TABLE pools ADD COLUMN tier TEXT NOT NULL
        GENERATED ALWAYS AS (coalesce(json_extract(spec, '$.tier'), 'running')) VIRTUAL;
      ALTER TABLE pools ADD COLUMN ready_vm_status TEXT NOT NULL
        GENERATED ALWAYS AS (CASE coalesce(json_extract(spec, '$.tier'), 'running')
          WHEN 'paused' THEN 'paused' WHEN 'saved' THEN 'stopped' ELSE 'running' END) VIRTUAL;
    `,
  },
  {
    version: 17,
    // Random, not a counter: a value a rolled-back write set can never come back and match a stale cache.
    name: "a token that changes with every write to pools, so a connection may cache pool records until it does",
    sql: `
      CREATE TABLE pool_epoch (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        token TEXT NOT NULL
      ) STRICT;
      INSERT INTO pool_epoch (id, token) VALUES (1, hex(randomblob(8)));
      CREATE TRIGGER pools_epoch_insert AFTER INSERT ON pools BEGIN
        UPDATE pool_epoch SET token = hex(randomblob(8));
      END;
      CREATE TRIGGER pools_epoch_update AFTER UPDATE ON pools BEGIN
        UPDATE pool_epoch SET token = hex(randomblob(8));
      END;
      CREATE TRIGGER pools_epoch_delete AFTER DELETE ON pools BEGIN
        UPDATE pool_epoch SET token = hex(randomblob(8));
      END;
    `,
  },
  {
    version: 18,
    name: "a revision per VM row, bumped by triggers on every write to it, its disks, NICs or their networks, and a global one (also moved by pool membership and leases): what VM list caches are keyed by",
    sql: `
      CREATE TABLE vm_rev_next (n INTEGER NOT NULL) STRICT;
      INSERT INTO vm_rev_next (n) VALUES (1);
      ALTER TABLE vms ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      CREATE TRIGGER vms_rev_insert AFTER INSERT ON vms BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = NEW.id;
      END;
      CREATE TRIGGER vms_rev_update AFTER UPDATE ON vms WHEN NEW.rev = OLD.rev BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = NEW.id;
      END;
      CREATE TRIGGER vms_rev_delete AFTER DELETE ON vms BEGIN
        UPDATE vm_rev_next SET n = n + 1;
      END;
      CREATE TRIGGER vm_disks_rev_insert AFTER INSERT ON vm_disks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = NEW.vm_id;
      END;
      CREATE TRIGGER vm_disks_rev_update AFTER UPDATE ON vm_disks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id IN (OLD.vm_id, NEW.vm_id);
      END;
      CREATE TRIGGER vm_disks_rev_delete AFTER DELETE ON vm_disks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = OLD.vm_id;
      END;
      CREATE TRIGGER vm_nics_rev_insert AFTER INSERT ON vm_nics BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = NEW.vm_id;
      END;
      CREATE TRIGGER vm_nics_rev_update AFTER UPDATE ON vm_nics BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id IN (OLD.vm_id, NEW.vm_id);
      END;
      CREATE TRIGGER vm_nics_rev_delete AFTER DELETE ON vm_nics BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next) WHERE id = OLD.vm_id;
      END;
      CREATE TRIGGER networks_rev_insert AFTER INSERT ON networks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next)
          WHERE id IN (SELECT vm_id FROM vm_nics WHERE network = NEW.name);
      END;
      CREATE TRIGGER networks_rev_update AFTER UPDATE OF name, kind, vlan, trunk ON networks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next)
          WHERE id IN (SELECT vm_id FROM vm_nics WHERE network IN (OLD.name, NEW.name));
      END;
      CREATE TRIGGER networks_rev_delete AFTER DELETE ON networks BEGIN
        UPDATE vm_rev_next SET n = n + 1;
        UPDATE vms SET rev = (SELECT n FROM vm_rev_next)
          WHERE id IN (SELECT vm_id FROM vm_nics WHERE network = OLD.name);
      END;
      CREATE TRIGGER pool_vms_rev_insert AFTER INSERT ON pool_vms BEGIN
        UPDATE vm_rev_next SET n = n + 1;
      END;
      CREATE TRIGGER pool_vms_rev_update AFTER UPDATE OF vm_name, pool, status, owner ON pool_vms BEGIN
        UPDATE vm_rev_next SET n = n + 1;
      END;
      CREATE TRIGGER pool_vms_rev_delete AFTER DELETE ON pool_vms BEGIN
        UPDATE vm_rev_next SET n = n + 1;
      END;
    `,
  },
  {
    version: 19,
    name: "allocation totals: vCPUs, memory and disk of VMs not gone, kept by triggers so a create need not sum every VM",
    sql: `
      CREATE TABLE vm_allocation (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        vcpus      INTEGER NOT NULL,
        memory_mib INTEGER NOT NULL,
        disk_bytes INTEGER NOT NULL
      ) STRICT;
      INSERT INTO vm_allocation (id, vcpus, memory_mib, disk_bytes)
        SELECT 1, coalesce(sum(vcpus), 0), coalesce(sum(memory_mib), 0),
          (SELECT coalesce(sum(d.size), 0) FROM vm_disks d JOIN vms v ON v.id = d.vm_id
           WHERE v.status != 'gone' AND d.device = 'disk')
        FROM vms WHERE status != 'gone';

      CREATE TRIGGER vm_allocation_insert AFTER INSERT ON vms WHEN new.status != 'gone' BEGIN
        UPDATE vm_allocation SET vcpus = vcpus + new.vcpus, memory_mib = memory_mib + new.memory_mib;
      END;
      CREATE TRIGGER vm_allocation_update AFTER UPDATE OF status, vcpus, memory_mib ON vms
      WHEN (old.status = 'gone') != (new.status = 'gone') OR old.vcpus != new.vcpus
        OR old.memory_mib != new.memory_mib BEGIN
        UPDATE vm_allocation SET
          vcpus = vcpus - iif(old.status != 'gone', old.vcpus, 0) + iif(new.status != 'gone', new.vcpus, 0),
          memory_mib = memory_mib - iif(old.status != 'gone', old.memory_mib, 0)
            + iif(new.status != 'gone', new.memory_mib, 0),
          disk_bytes = disk_bytes + ((new.status != 'gone') - (old.status != 'gone'))
            * (SELECT coalesce(sum(size), 0) FROM vm_disks WHERE vm_id = new.id AND device = 'disk');
      END;
      -- BEFORE: the VM's disks are still there to subtract; their cascaded deletes then find no VM row.
      CREATE TRIGGER vm_allocation_delete BEFORE DELETE ON vms WHEN old.status != 'gone' BEGIN
        UPDATE vm_allocation SET vcpus = vcpus - old.vcpus, memory_mib = memory_mib - old.memory_mib,
          disk_bytes = disk_bytes
            - (SELECT coalesce(sum(size), 0) FROM vm_disks WHERE vm_id = old.id AND device = 'disk');
      END;
      CREATE TRIGGER vm_disks_allocation_insert AFTER INSERT ON vm_disks
      WHEN new.device = 'disk' AND EXISTS (SELECT 1 FROM vms WHERE id = new.vm_id AND status != 'gone') BEGIN
        UPDATE vm_allocation SET disk_bytes = disk_bytes + new.size;
      END;
      CREATE TRIGGER vm_disks_allocation_delete AFTER DELETE ON vm_disks
      WHEN old.device = 'disk' AND EXISTS (SELECT 1 FROM vms WHERE id = old.vm_id AND status != 'gone') BEGIN
        UPDATE vm_allocation SET disk_bytes = disk_bytes - old.size;
      END;
      CREATE TRIGGER vm_disks_allocation_update AFTER UPDATE OF vm_id, device, size ON vm_disks BEGIN
        UPDATE vm_allocation SET disk_bytes = disk_bytes
          - iif(old.device = 'disk' AND EXISTS (SELECT 1 FROM vms WHERE id = old.vm_id AND status != 'gone'),
                old.size, 0)
          + iif(new.device = 'disk' AND EXISTS (SELECT 1 FROM vms WHERE id = new.vm_id AND status != 'gone'),
                new.size, 0);
      END;
      -- PVC volumes a VM disk uses are counted once: this finds that disk without scanning them all.
      CREATE INDEX vm_disks_volume ON vm_disks(volume);
    `,
  },
  {
    version: 20,
    name: "fleet migrations: a VM leaving this host (departure) or coming to it (arrival) until its name claim has moved",
    sql: `
      CREATE TABLE fleet_departures (
        vm_name    TEXT PRIMARY KEY,
        migration  TEXT NOT NULL,
        to_host    TEXT NOT NULL,
        live       INTEGER NOT NULL CHECK (live IN (0, 1)),
        started_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE fleet_arrivals (
        vm_name    TEXT PRIMARY KEY,
        migration  TEXT NOT NULL,
        from_host  TEXT NOT NULL,
        record     TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      -- PVC's last_node: the host a temporary migration (PVC migrate) came from, for unmigrate.
      ALTER TABLE vms ADD COLUMN last_host TEXT;
    `,
  },
  {
    version: 21,
    name: "indexes for the scheduler's frequent review: members by status and expiry, VMs by status",
    sql: `
      CREATE INDEX pool_vms_status ON pool_vms(status, expires_at);
      CREATE INDEX vms_status ON vms(status);
    `,
  },
];

export const LATEST_SCHEMA = MIGRATIONS.length;
