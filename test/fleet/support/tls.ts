// A test CA and per-host QEMU migration certificates (openssl argv), in the layout qemu.conf's migrate_tls_x509_cert_dir wants.
import { chmodSync, copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./run.ts";

/** A host's migration certificate directory as its libvirtd sees it (its /etc/libvirt is `<host dir>/etc`). */
export const MIGRATE_TLS_DIR = "/etc/libvirt/migrate-tls";
/** The same directory from the root namespace. */
export const migrateTlsDirOf = (hostDir: string) => join(hostDir, "etc/migrate-tls");

/** The files libvirt/QEMU read from a migration certificate directory (verify on: client certificates too). */
export const CERT_FILES = [
  "ca-cert.pem",
  "server-cert.pem",
  "server-key.pem",
  "client-cert.pem",
  "client-key.pem",
] as const;

/** Makes a throw-away CA in `dir` (ca-cert.pem, ca-key.pem), valid for a day. */
export function makeTestCa(dir: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const cert = join(dir, "ca-cert.pem");
  const key = join(dir, "ca-key.pem");
  run([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    "/CN=berth fleet test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { cert, key };
}

/**
 * Issues `node`'s certificate (its IP and name as subject alternative names: the source QEMU checks the
 * destination's against the address it connects to) and writes every file of CERT_FILES into `out`; the one
 * certificate serves as server (incoming migration) and client (outgoing).
 */
export function issueHostCerts(
  ca: { cert: string; key: string },
  out: string,
  node: string,
  ip: string,
): void {
  mkdirSync(out, { recursive: true, mode: 0o755 });
  const key = join(out, "server-key.pem");
  const cert = join(out, "server-cert.pem");
  run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", key]);
  run([
    "openssl",
    "req",
    "-x509",
    "-new",
    "-key",
    key,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-out",
    cert,
    "-days",
    "1",
    "-subj",
    `/CN=fleet-${node}`,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "-addext",
    "extendedKeyUsage=serverAuth,clientAuth",
    "-addext",
    `subjectAltName=IP:${ip},DNS:fleet-${node}`,
  ]);
  copyFileSync(ca.cert, join(out, "ca-cert.pem"));
  copyFileSync(cert, join(out, "client-cert.pem"));
  copyFileSync(key, join(out, "client-key.pem"));
  // QEMU runs as the libvirt-qemu user: the test keys must be readable by it (a real host keeps them 0640 root:qemu).
  for (const f of CERT_FILES) chmodSync(join(out, f), 0o644);
}

/** Removes a host's certificate files but keeps the directory (libvirtd only checks it exists at start). */
export function removeHostCerts(out: string): void {
  for (const f of CERT_FILES) rmSync(join(out, f), { force: true });
}
