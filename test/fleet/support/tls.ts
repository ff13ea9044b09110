// A test CA and per-host certificates (openssl argv): QEMU's migration ones (migrate_tls_x509_cert_dir) and libvirtd's (qemu+tls).
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** Issues a certificate for `node` signed by `ca` (its IP and name as subject alternative names, server and client usage). */
function issueCert(
  ca: { cert: string; key: string },
  key: string,
  cert: string,
  node: string,
  ip: string,
): void {
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
  issueCert(ca, key, cert, node, ip);
  copyFileSync(ca.cert, join(out, "ca-cert.pem"));
  copyFileSync(cert, join(out, "client-cert.pem"));
  copyFileSync(key, join(out, "client-key.pem"));
  // QEMU runs as the libvirt-qemu user: the test keys must be readable by it (a real host keeps them 0640 root:qemu).
  for (const f of CERT_FILES) chmodSync(join(out, f), 0o644);
}

/**
 * A host's libvirtd certificate directory as its libvirtd sees it: the server files named in its libvirtd.conf
 * (key_file, cert_file, ca_file) and the client files its outgoing connections take through the URI's pkipath.
 */
export const LIBVIRT_PKI_DIR = "/etc/libvirt/pki";
/** The same directory from the root namespace. */
export const libvirtPkiDirOf = (hostDir: string) => join(hostDir, "etc/pki");
/** The files of a libvirt pkipath directory (client side) plus the server pair. */
export const LIBVIRT_PKI_FILES = [
  "cacert.pem",
  "servercert.pem",
  "serverkey.pem",
  "clientcert.pem",
  "clientkey.pem",
] as const;

/** libvirtd's certificates for `node` (libvirt's names; one certificate as server and client) in `out`. */
export function issueLibvirtPki(
  ca: { cert: string; key: string },
  out: string,
  node: string,
  ip: string,
): void {
  mkdirSync(out, { recursive: true, mode: 0o700 });
  issueCert(ca, join(out, "serverkey.pem"), join(out, "servercert.pem"), node, ip);
  copyFileSync(ca.cert, join(out, "cacert.pem"));
  copyFileSync(join(out, "servercert.pem"), join(out, "clientcert.pem"));
  copyFileSync(join(out, "serverkey.pem"), join(out, "clientkey.pem"));
}

/**
 * Gives `node` (in `out`, a libvirt pki directory) a client certificate from a CA the other hosts do not know, and a
 * cacert.pem of both CAs (its own credentials still pass libvirt's check, and it still trusts the others' servers).
 */
export function issueUntrustedClient(
  ca: { cert: string; key: string },
  scratch: string,
  out: string,
  node: string,
  ip: string,
): void {
  const rogue = makeTestCa(scratch);
  issueCert(rogue, join(out, "clientkey.pem"), join(out, "clientcert.pem"), node, ip);
  writeFileSync(join(out, "cacert.pem"), readFileSync(ca.cert, "utf8") + readFileSync(rogue.cert, "utf8"));
}

/** Removes a host's certificate files but keeps the directory (libvirtd only checks it exists at start). */
export function removeHostCerts(out: string): void {
  for (const f of CERT_FILES) rmSync(join(out, f), { force: true });
}
