// tls:// targets from Node: the core's TLS client reached through the
// target string alone (?ca=, &cert=, &key=), against `ninefold serve
// --listen tls://` with certificates made by openssl.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Client, NinefoldError } from "ninefold";
import { ninefoldBin } from "./servers.mjs";

let dir = "";
let base = "";
let child: ChildProcess | undefined;

function openssl(...args: string[]): void {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.error) throw new Error(`openssl is not installed (apt-get install -y openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

function makePki(d: string): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  for (const ca of ["ca", "other"]) {
    openssl("req", "-x509", ...ec, "-days", "2", "-subj", `/CN=${ca}`, "-keyout", join(d, `${ca}.key`), "-out", join(d, `${ca}.pem`));
  }
  for (const [leaf, san] of [["server", "IP:127.0.0.1,DNS:localhost"], ["client", ""]] as const) {
    openssl("req", ...ec, "-subj", `/CN=node-${leaf}`, "-keyout", join(d, `${leaf}.key`), "-out", join(d, `${leaf}.csr`));
    // An extension makes it an X.509 v3 certificate (v1 is refused).
    writeFileSync(join(d, `${leaf}.ext`), `basicConstraints=CA:FALSE\n${san ? `subjectAltName=${san}\n` : ""}`);
    openssl("x509", "-req", "-in", join(d, `${leaf}.csr`), "-CA", join(d, "ca.pem"), "-CAkey", join(d, "ca.key"),
      "-CAcreateserial", "-days", "2", "-extfile", join(d, `${leaf}.ext`), "-out", join(d, `${leaf}.pem`));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ninefold-node-tls-"));
  makePki(dir);
  const c = spawn(ninefoldBin(), [
    "serve", "--memory", "--listen", "tls://127.0.0.1:0",
    "--tls-cert", join(dir, "server.pem"), "--tls-key", join(dir, "server.key"),
    "--tls-client-ca", join(dir, "ca.pem"), "--tls-require-client-cert",
  ], { stdio: ["ignore", "pipe", "inherit"] });
  child = c;
  base = await new Promise<string>((res, rej) => {
    let out = "";
    const timer = setTimeout(() => rej(new Error(`no tls listener: ${out}`)), 20000);
    c.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = out.match(/listening on (tls:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    c.once("exit", (code) => rej(new Error(`ninefold serve exited (${code}): ${out}`)));
  });
});

after(() => {
  child?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("tls:// target with ?ca=, &cert=, &key=", async () => {
  const target = `${base}?ca=${join(dir, "ca.pem")}&cert=${join(dir, "client.pem")}&key=${join(dir, "client.key")}`;
  const c = await Client.connect(target);
  await c.write("/hello.txt", "hello over tls");
  assert.equal((await c.read("/hello.txt")).toString(), "hello over tls");
  await c.close();
});

async function failsWith(target: string, text: string): Promise<void> {
  try {
    await Client.connect(target);
  } catch (e) {
    assert.ok(e instanceof NinefoldError, String(e));
    assert.ok(String((e as Error).message).includes(text), `${String(e)} lacks ${text}`);
    return;
  }
  assert.fail(`connected to ${target}`);
}

test("TLS failures are readable errors", async () => {
  await failsWith(`${base}?ca=${join(dir, "other.pem")}`, "not signed by a trusted CA");
  await failsWith(`${base}?ca=${join(dir, "ca.pem")}`, "requires a client certificate");
  await failsWith(`${base}?ca=${join(dir, "ca.pem")}&bogus=1`, "unknown TLS parameter");
});
