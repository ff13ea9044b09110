// A 3-member etcd cluster of the test fleet: one member in each given network namespace, data under `dir`.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { until } from "./run.ts";

export interface EtcdCluster {
  endpoints: string[];
  pids: number[];
  client: Etcd3;
}

export async function etcdUp(
  members: { name: string; ns: string; ip: string }[],
  dir: string,
): Promise<EtcdCluster> {
  const cluster = members.map((m) => `${m.name}=http://${m.ip}:2380`).join(",");
  const pids: number[] = [];
  for (const m of members) {
    const data = join(dir, m.name);
    mkdirSync(data, { recursive: true });
    const proc = Bun.spawn(
      [
        "ip",
        "netns",
        "exec",
        m.ns,
        "etcd",
        "--name",
        m.name,
        "--data-dir",
        data,
        "--listen-peer-urls",
        `http://${m.ip}:2380`,
        "--initial-advertise-peer-urls",
        `http://${m.ip}:2380`,
        "--listen-client-urls",
        `http://${m.ip}:2379`,
        "--advertise-client-urls",
        `http://${m.ip}:2379`,
        "--initial-cluster",
        cluster,
        "--initial-cluster-state",
        "new",
        "--initial-cluster-token",
        `berth-fleet-${dir.length}`,
      ],
      { stdout: Bun.file(join(dir, `${m.name}.log`)), stderr: Bun.file(join(dir, `${m.name}.err`)) },
    );
    pids.push(proc.pid);
  }
  const endpoints = members.map((m) => `http://${m.ip}:2379`);
  const client = new Etcd3({ hosts: endpoints, dialTimeout: 2000 });
  await until(
    async () =>
      await client
        .put("/berth-test/ready")
        .value("1")
        .then(
          () => true,
          () => false,
        ),
    30_000,
    "etcd to accept a write",
  );
  return { endpoints, pids, client };
}
